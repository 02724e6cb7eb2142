// `ygg ARGS` as a real process, run from the sources (test/fixtures/ygg-from-source.ts), for what
// only a process shows: its exit code and timing, what reaches the terminal, the handlers of last resort.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ENTRY = ['--import', 'tsx', path.join(ROOT, 'test/fixtures/ygg-from-source.ts')];

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

export function startYgg(args: readonly string[], env: Readonly<Record<string, string>> = {}): RunningYgg {
  const startedAt = Date.now();
  const child = spawn(process.execPath, [...ENTRY, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
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
export function runYgg(args: readonly string[], options: { timeoutMs?: number; env?: Readonly<Record<string, string>> } = {}): Promise<ProcessResult> {
  return startYgg(args, options.env).exited(options.timeoutMs ?? 60_000);
}
