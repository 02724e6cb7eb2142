// Where the loader parses files and locates findings. In the controller, off the main thread: its
// event loop renews the leader lease and answers /healthz, and a parse of a large erroneous file
// (the `yaml` re-parse that keeps positions) takes seconds. In the CLI, on this thread, with workers
// helping only on a cold load of thousands of files (a worker costs a start-up of ~0.5 s).
import { availableParallelism } from 'node:os';
import type { Finding, PendingFinding } from './finding.js';
import { locateFindings } from './locate-findings.js';
import { parseFile, type ParsedFile } from './parse-file.js';
import { ParsePool, type ParseReply, type ParseRequest } from './parse-pool.js';
import type { AppliedLimits } from './repo-limits.js';
import type { DocumentValidator } from './schema-validator.js';
import type { RepoFile, RepoSnapshot } from './source.js';

const CHUNK_FILES = 400;
/** A chunk's text stays small beside the worker's heap cap, whatever the per-file limit. */
const CHUNK_BYTES = 8 * 1024 * 1024;
const LOCATE_CHUNK_FILES = 50;
/** Keeping positions (`yaml`'s document tree) costs ~50 bytes of heap per byte of text. */
const LOCATE_CHUNK_BYTES = 4 * 1024 * 1024;
const WORKER_HEAP_MB = 1024;
/**
 * New files up to this many bytes in all are parsed on this thread even in the controller: a
 * commit's few changed files take milliseconds here, while a worker idle for 30 s must start again
 * (~0.3 s) and leaves its isolate's freed memory in a malloc arena of the process. Locating the
 * findings of valid YAML (the slow `yaml` re-parse) stays in the workers; a syntax error is located
 * at parse time, so here too: up to ~0.3 s on this thread for 64 KiB of broken YAML (measured),
 * well inside a lease's renewal margin.
 */
const SMALL_LOAD_BYTES = 64 * 1024;
/** The controller keeps its workers through a burst of commits, then gives their memory back. */
const WORKER_IDLE_MS = 30_000;
/**
 * A chunk (≤ 8 MiB, ≤ 400 files) takes seconds; only a hang takes this long. A load that hits it
 * fails (the controller keeps the last good commit and tries again), instead of waiting forever.
 */
const REQUEST_TIMEOUT_MS = 300_000;

export interface FileParserOptions {
  /** Parse and locate in worker threads only (the controller). */
  readonly offThread?: boolean;
}

export interface FileToLocate {
  readonly file: RepoFile;
  /** Its size in bytes, when known (requests are bounded by it). */
  readonly size?: number;
  readonly findings: readonly PendingFinding[];
}

function maxWorkers(): number {
  return Math.max(1, Math.min(availableParallelism() - 1, 3));
}

function chunkBySize<T>(items: readonly T[], sizeOf: (item: T, index: number) => number, maxItems: number, maxBytes: number): T[][] {
  const chunks: T[][] = [];
  let bytes = 0;
  items.forEach((item, index) => {
    const size = sizeOf(item, index);
    const last = chunks[chunks.length - 1];
    if (!last || last.length >= maxItems || bytes + size > maxBytes) {
      chunks.push([item]);
      bytes = size;
    } else {
      last.push(item);
      bytes += size;
    }
  });
  return chunks;
}

function unwrap<K extends 'parsed' | 'located'>(reply: ParseReply, key: K): Extract<ParseReply, Record<K, unknown>>[K] {
  if ('error' in reply) throw new Error(`parse worker failed: ${reply.error}`);
  return (reply as Extract<ParseReply, Record<K, unknown>>)[key];
}

export class FileParser {
  private readonly offThreadPool?: ParsePool;

  constructor(
    private readonly validator: DocumentValidator,
    options: FileParserOptions = {},
  ) {
    if (options.offThread) this.offThreadPool = new ParsePool({ maxWorkers: maxWorkers(), idleMs: WORKER_IDLE_MS, maxHeapMb: WORKER_HEAP_MB, requestTimeoutMs: REQUEST_TIMEOUT_MS });
  }

  /** Results in the order of `files`; `sizes[i]` is the size of `files[i]`. */
  async parse(snapshot: RepoSnapshot, files: readonly RepoFile[], sizes: readonly number[], limits: AppliedLimits): Promise<ParsedFile[]> {
    const location = snapshot.location;
    const parseHere = async (file: RepoFile) => parseFile(file.path, await snapshot.readText(file), this.validator, limits);
    // A snapshot with no location (built in memory) can only be read here.
    const small = sizes.reduce((sum, size) => sum + size, 0) <= SMALL_LOAD_BYTES;
    const workers = !location ? 0 : this.offThreadPool ? (small ? 0 : maxWorkers()) : coldLoadWorkers(files.length);
    if (!location || workers === 0) return mapInOrder(files, parseHere);
    const indexes = chunkBySize(files.map((_, index) => index), (index) => sizes[index]!, CHUNK_FILES, CHUNK_BYTES);
    const results: ParsedFile[] = new Array(files.length);
    // A cold load's own workers live as long as this call (stopped below), not until idle.
    const pool = this.offThreadPool ?? new ParsePool({ maxWorkers: workers, idleMs: WORKER_IDLE_MS, maxHeapMb: WORKER_HEAP_MB, requestTimeoutMs: REQUEST_TIMEOUT_MS });
    let next = 0;
    const viaWorker = async () => {
      for (let chunk = indexes[next++]; chunk; chunk = indexes[next++]) {
        const reply = await pool.run({ kind: 'parse', location, files: chunk.map((index) => files[index]!), limits });
        unwrap(reply, 'parsed').forEach((parsed, offset) => (results[chunk[offset]!] = parsed));
      }
    };
    const here = async () => {
      for (let chunk = indexes[next++]; chunk; chunk = indexes[next++]) {
        // Reads from an in-memory pack resolve as microtasks only: yield so workers' messages get through.
        await new Promise<void>((resolve) => setImmediate(resolve));
        for (const index of chunk) results[index] = await parseHere(files[index]!);
      }
    };
    try {
      await Promise.all([...(this.offThreadPool ? [] : [here()]), ...Array.from({ length: workers }, viaWorker)]);
    } finally {
      if (pool !== this.offThreadPool) await pool.close();
    }
    return results;
  }

  async locate(snapshot: RepoSnapshot, files: readonly FileToLocate[]): Promise<Finding[]> {
    const location = snapshot.location;
    if (!this.offThreadPool || !location) {
      const located = await mapInOrder(files, async ({ file, findings }) => locateFindings(await snapshot.readText(file), findings));
      return located.flat();
    }
    const pool = this.offThreadPool;
    const chunks = chunkBySize(files, ({ size }) => size ?? 0, LOCATE_CHUNK_FILES, LOCATE_CHUNK_BYTES);
    const request = (chunk: FileToLocate[]): ParseRequest => ({ kind: 'locate', location, files: chunk.map(({ file, findings }) => ({ file, findings })) });
    const replies = await Promise.all(chunks.map((chunk) => pool.run(request(chunk))));
    return replies.flatMap((reply) => unwrap(reply, 'located').flat());
  }

  /** Parse workers running now. */
  get workers(): number {
    return this.offThreadPool?.size ?? 0;
  }

  /** Stops the workers (they also stop on their own when idle, and never keep the process alive). */
  close(): Promise<void> {
    return this.offThreadPool?.close() ?? Promise.resolve();
  }
}

/** Worker threads worth starting for a cold load of `fileCount` files on this thread: none for small loads. */
function coldLoadWorkers(fileCount: number): number {
  if (fileCount < 2 * CHUNK_FILES) return 0;
  return Math.min(availableParallelism() - 1, 3, Math.floor(fileCount / CHUNK_FILES) - 1);
}

async function mapInOrder<T, R>(items: readonly T[], map: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (const item of items) results.push(await map(item));
  return results;
}
