// Worker threads that parse and locate YAML files: off the main thread, which in the controller
// renews the leader lease and answers HTTP, and on more cores for a cold load of thousands of files.
// A worker reads the files itself (only names go in, parsed documents come out), handles one request
// at a time, and is stopped after `idleMs` without work, which gives its memory back; its heap is
// capped, so a parse that would exhaust it fails that load instead of the process.
import { Worker } from 'node:worker_threads';
import type { Finding, PendingFinding } from './finding.js';
import type { ParsedFile } from './parse-file.js';
import type { AppliedLimits } from './repo-limits.js';
import type { RepoFile, SnapshotLocation } from './source.js';

export type ParseRequest =
  | { readonly kind: 'parse'; readonly location: SnapshotLocation; readonly files: readonly RepoFile[]; readonly limits: AppliedLimits }
  | { readonly kind: 'locate'; readonly location: SnapshotLocation; readonly files: readonly { readonly file: RepoFile; readonly findings: readonly PendingFinding[] }[] };

export type ParseReply = { readonly parsed: ParsedFile[] } | { readonly located: Finding[][] } | { readonly error: string };

export interface ParsePoolOptions {
  readonly maxWorkers: number;
  /** A worker idle this long is stopped (close() stops them all at once). */
  readonly idleMs: number;
  /** Cap on each worker's heap, in MiB. */
  readonly maxHeapMb: number;
  /** A request not answered in this time fails, and its worker is stopped: a load never waits forever. */
  readonly requestTimeoutMs: number;
}

interface PoolWorker {
  readonly worker: Worker;
  busy?: { resolve: (reply: ParseReply) => void; reject: (error: Error) => void; deadline: NodeJS.Timeout };
  idleTimer?: NodeJS.Timeout;
}

/**
 * Starts a parse worker: the compiled .js next to this module, or, when running from TypeScript
 * sources (tests, benchmarks under tsx), the .ts source after registering tsx in the worker, since
 * workers do not inherit the main thread's `--import tsx` hooks.
 */
function startWorker(maxHeapMb: number): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: maxHeapMb };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./parse-worker.js', import.meta.url), { resourceLimits });
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = new URL('./parse-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(bootstrap, { eval: true, resourceLimits });
}

export class ParsePool {
  private readonly workers = new Set<PoolWorker>();
  private readonly queue: { request: ParseRequest; resolve: (reply: ParseReply) => void; reject: (error: Error) => void }[] = [];

  constructor(private readonly options: ParsePoolOptions) {}

  get size(): number {
    return this.workers.size;
  }

  run(request: ParseRequest): Promise<ParseReply> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    const workers = [...this.workers];
    this.workers.clear();
    await Promise.all(workers.map((entry) => this.stop(entry)));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let idle = [...this.workers].find((entry) => !entry.busy);
      if (!idle && this.workers.size < this.options.maxWorkers) idle = this.add();
      if (!idle) return;
      const { request, resolve, reject } = this.queue.shift()!;
      clearTimeout(idle.idleTimer);
      const entry = idle;
      const deadline = setTimeout(() => {
        this.workers.delete(entry);
        void this.stop(entry);
        this.settle(entry)?.reject(new Error(`parsing took longer than ${this.options.requestTimeoutMs / 1000} s`));
        this.dispatch();
      }, this.options.requestTimeoutMs);
      idle.busy = { resolve, reject, deadline };
      idle.worker.ref();
      idle.worker.postMessage(request);
    }
  }

  private add(): PoolWorker {
    const entry: PoolWorker = { worker: startWorker(this.options.maxHeapMb) };
    const fail = (error: Error) => {
      this.workers.delete(entry);
      this.settle(entry)?.reject(error);
      this.dispatch();
    };
    entry.worker.on('message', (reply: ParseReply) => {
      const busy = this.settle(entry);
      this.idle(entry);
      busy?.resolve(reply);
      this.dispatch();
    });
    entry.worker.on('error', (error: Error & { code?: string }) => {
      fail(error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new Error(`parsing ran out of memory (the parse worker's heap is capped at ${this.options.maxHeapMb} MiB)`, { cause: error }) : error);
    });
    entry.worker.on('exit', (code) => fail(new Error(`parse worker exited with code ${code}`)));
    this.workers.add(entry);
    return entry;
  }

  /** Takes the request a worker was busy with, if any, and stops its deadline. */
  private settle(entry: PoolWorker): PoolWorker['busy'] {
    const busy = entry.busy;
    entry.busy = undefined;
    clearTimeout(busy?.deadline);
    return busy;
  }

  private idle(entry: PoolWorker): void {
    // An idle worker does not keep the process alive; a stopped one has given its memory back.
    entry.worker.unref();
    entry.idleTimer = setTimeout(() => {
      this.workers.delete(entry);
      void this.stop(entry);
    }, this.options.idleMs);
    entry.idleTimer.unref();
  }

  private async stop(entry: PoolWorker): Promise<void> {
    clearTimeout(entry.idleTimer);
    clearTimeout(entry.busy?.deadline);
    entry.worker.removeAllListeners('exit');
    await entry.worker.terminate();
  }
}
