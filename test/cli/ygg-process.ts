// `ygg ARGS` as a real process, run from the sources (test/fixtures/ygg-from-source.ts), for what
// only a process shows: its exit code and timing, what reaches the terminal, the handlers of last resort.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ENTRY = path.join(ROOT, 'test/fixtures/ygg-from-source.ts');

export interface ProcessResult {
  /** null when the process did not exit within the timeout (it was killed). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly elapsedMs: number;
}

export interface RunningYgg {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process exits, or after `timeoutMs` with code null (then it is SIGKILLed). */
  exited(timeoutMs: number): Promise<ProcessResult>;
}

export interface YggProcessOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Node flags after tsx is loaded, e.g. ['--import', FILE] to preload a test hook written in TypeScript. */
  readonly nodeArgs?: readonly string[];
}

export function startYgg(args: readonly string[], options: YggProcessOptions = {}): RunningYgg {
  const startedAt = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', ...(options.nodeArgs ?? []), ENTRY, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    async exited(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      const outcome = await Promise.race([exit, timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        child.kill('SIGKILL');
        await exit;
      }
      return { code: outcome === 'timeout' ? null : outcome, stdout, stderr, elapsedMs: Date.now() - startedAt };
    },
  };
}

/** Runs `ygg ARGS` to the end (at most `timeoutMs`). */
export function runYgg(args: readonly string[], options: YggProcessOptions & { timeoutMs?: number } = {}): Promise<ProcessResult> {
  return startYgg(args, options).exited(options.timeoutMs ?? 60_000);
}
