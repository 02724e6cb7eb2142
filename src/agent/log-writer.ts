// Where a job's output goes. The child gets the log files themselves as stdout/stderr, not pipes
// to the agent: a job must outlive an agent restart (it is adopted, not restarted), and a child
// writing into a pipe whose reader died gets SIGPIPE. Files opened O_APPEND have no such reader.
//
// The price is that the agent cannot rotate by reopening (the child holds the fd), so rotation is
// copy-truncate: copy stdout.log to stdout.log.1, then truncate stdout.log to zero. Because every
// write of an O_APPEND fd goes to the current end of file, the child simply continues at offset 0
// (without O_APPEND it would keep its old offset and leave a hole of NUL bytes).
import { copyFile, mkdir, open, rename, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';

export const STDOUT_LOG = 'stdout.log';
export const STDERR_LOG = 'stderr.log';

export const DEFAULT_LOG_ROTATION = { maxBytes: 10 * 1024 * 1024, keep: 3, intervalMs: 30_000 } as const;

export type LogFileErrorCode = 'E_LOG_OPEN' | 'E_LOG_ROTATE';

export class LogFileError extends Error {
  constructor(
    readonly code: LogFileErrorCode,
    readonly file: string,
    options: { cause: unknown },
  ) {
    super(`${code === 'E_LOG_OPEN' ? 'cannot open log file' : 'cannot rotate log file'} ${file}: ${describe(options.cause)}`, options);
    this.name = 'LogFileError';
  }

  toJSON(): { code: string; file: string; message: string } {
    return { code: this.code, file: this.file, message: this.message };
  }
}

/** Descriptors to hand to spawn's stdio; close them once the child has them (spawn dups them). */
export interface LogFiles {
  readonly stdout: number;
  readonly stderr: number;
  readonly stdoutPath: string;
  readonly stderrPath: string;
  close(): Promise<void>;
}

export async function openLogFiles(logDir: string): Promise<LogFiles> {
  const stdoutPath = join(logDir, STDOUT_LOG);
  const stderrPath = join(logDir, STDERR_LOG);
  try {
    await mkdir(logDir, { recursive: true });
  } catch (cause) {
    throw new LogFileError('E_LOG_OPEN', logDir, { cause });
  }
  const out = await openAppend(stdoutPath);
  const err = await openAppend(stderrPath).catch(async (error: unknown) => {
    await out.close();
    throw error;
  });
  return {
    stdout: out.fd,
    stderr: err.fd,
    stdoutPath,
    stderrPath,
    close: async () => {
      await Promise.all([out.close(), err.close()]);
    },
  };
}

// One rotation per file at a time: two overlapping copy-truncates would shift the same generation twice.
const rotating = new Set<string>();

/**
 * When `file` is larger than maxBytes: shift file.1 … file.(keep-1) up by one (file.keep falls
 * off), copy file to file.1 and truncate file. Returns whether it rotated. Lines the child writes
 * between the copy and the truncate are lost: the known cost of copy-truncate, a window of a
 * millisecond or so, accepted to keep the child independent of the agent. keep = 0 only truncates.
 */
export async function rotateIfLarger(file: string, maxBytes: number, keep: number): Promise<boolean> {
  if (rotating.has(file)) return false;
  rotating.add(file);
  try {
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw error;
    }
    if (size <= maxBytes) return false;
    for (let generation = keep - 1; generation >= 1; generation -= 1) {
      try {
        await rename(`${file}.${generation}`, `${file}.${generation + 1}`);
      } catch (error) {
        if (!isErrno(error, 'ENOENT')) throw error;
      }
    }
    if (keep >= 1) await copyFile(file, `${file}.1`);
    await truncate(file, 0);
    return true;
  } catch (cause) {
    throw new LogFileError('E_LOG_ROTATE', file, { cause });
  } finally {
    rotating.delete(file);
  }
}

export interface LogRotationOptions {
  /** Asked on every round, so instances that come and go are picked up without re-registering. */
  readonly files: () => readonly string[];
  readonly maxBytes?: number;
  readonly keep?: number;
  readonly intervalMs?: number;
  readonly onError?: (error: LogFileError) => void;
}

/**
 * Checks the files every intervalMs and rotates the large ones. A log can overshoot maxBytes by
 * what the job writes in one interval; that is the trade for not watching every write.
 */
export function startLogRotation(options: LogRotationOptions): { stop(): void } {
  const maxBytes = options.maxBytes ?? DEFAULT_LOG_ROTATION.maxBytes;
  const keep = options.keep ?? DEFAULT_LOG_ROTATION.keep;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void Promise.all(
      options.files().map((file) =>
        rotateIfLarger(file, maxBytes, keep).catch((error: unknown) => {
          options.onError?.(error instanceof LogFileError ? error : new LogFileError('E_LOG_ROTATE', file, { cause: error }));
        }),
      ),
    ).finally(() => {
      running = false;
    });
  }, options.intervalMs ?? DEFAULT_LOG_ROTATION.intervalMs);
  // Rotation alone must not keep the agent alive.
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

async function openAppend(path: string): Promise<{ fd: number; close(): Promise<void> }> {
  try {
    // 'a' = O_WRONLY | O_CREAT | O_APPEND, the flag copy-truncate depends on.
    const handle = await open(path, 'a', 0o640);
    return { fd: handle.fd, close: () => handle.close() };
  } catch (cause) {
    throw new LogFileError('E_LOG_OPEN', path, { cause });
  }
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
