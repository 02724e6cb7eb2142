// Parses many files on every core: the main thread and worker threads pull chunks from one queue.
// Only the cold path needs this (a first load, or a commit that rewrites thousands of files); a
// worker reads the blobs itself, so only file names go in and parsed documents come out.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ParsedFile } from './parse-file.js';
import type { RepoFile, SnapshotLocation } from './source.js';

const CHUNK_SIZE = 400;

export interface ParseTask {
  readonly location: SnapshotLocation;
  readonly files: readonly RepoFile[];
}

/** Worker threads worth starting for `fileCount` files: none for small jobs or a single core. */
export function parseWorkerCount(fileCount: number): number {
  if (fileCount < 2 * CHUNK_SIZE) return 0;
  return Math.min(availableParallelism() - 1, 3, Math.floor(fileCount / CHUNK_SIZE) - 1);
}

/**
 * Starts a parse worker: the compiled .js next to this module, or, when running from TypeScript
 * sources (tests, benchmarks under tsx), the .ts source after registering tsx in the worker, since
 * workers do not inherit the main thread's `--import tsx` hooks.
 */
function startWorker(workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./parse-worker.js', import.meta.url), { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = new URL('./parse-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/**
 * Parses `task.files` with `parseLocally` on this thread and `workerCount` workers alongside;
 * results come back in the order of `task.files`.
 */
export async function parseInParallel(task: ParseTask, workerCount: number, parseLocally: (file: RepoFile) => Promise<ParsedFile>): Promise<ParsedFile[]> {
  const results: ParsedFile[] = new Array(task.files.length);
  let nextChunk = 0;
  const takeChunk = (): [number, number] | undefined => {
    const start = nextChunk * CHUNK_SIZE;
    if (start >= task.files.length) return undefined;
    nextChunk++;
    return [start, Math.min(start + CHUNK_SIZE, task.files.length)];
  };
  const runWorker = () =>
    new Promise<void>((resolve, reject) => {
      const worker = startWorker({ location: task.location });
      let chunk: [number, number] | undefined;
      const sendNext = () => {
        chunk = takeChunk();
        if (chunk) worker.postMessage(task.files.slice(chunk[0], chunk[1]));
        else void worker.terminate().then(() => resolve());
      };
      worker.on('message', (message: { ready?: true; parsed?: ParsedFile[] }) => {
        if (message.parsed && chunk) message.parsed.forEach((parsed, offset) => (results[chunk![0] + offset] = parsed));
        sendNext();
      });
      worker.on('error', reject);
      worker.on('exit', (code) => {
        if (chunk && code !== 0) reject(new Error(`parse worker exited with code ${code}`));
      });
    });
  const runLocally = async () => {
    for (let chunk = takeChunk(); chunk; chunk = takeChunk()) {
      // Reads from an in-memory pack resolve as microtasks only: yield so workers' messages get through.
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (let index = chunk[0]; index < chunk[1]; index++) results[index] = await parseLocally(task.files[index]!);
    }
  };
  await Promise.all([runLocally(), ...Array.from({ length: workerCount }, runWorker)]);
  return results;
}
