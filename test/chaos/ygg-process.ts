// `ygg controller|agent|render` as real processes, each the leader of its own process group (so a
// SIGKILL or SIGSTOP reaches the whole of it and nothing else), run from the built CLI (bin/ygg.js:
// node starts it in a fraction of tsx's time, which matters with a dozen processes on two cores).
// Their log lines go to one shared log book, stamped with the time they arrived.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(REPO_ROOT, 'bin/ygg.js');

export interface LogEntry {
  readonly atMs: number;
  readonly source: string;
  readonly text: string;
}

export class LogBook {
  readonly entries: LogEntry[] = [];

  add(source: string, text: string, atMs = Date.now()): void {
    this.entries.push({ atMs, source, text });
  }

  /** The JSON lines of `source` whose `event` is `event`. */
  events(source: string, event: string): Record<string, unknown>[] {
    const found: Record<string, unknown>[] = [];
    for (const entry of this.entries) {
      if (entry.source !== source || !entry.text.includes(`"${event}"`)) continue;
      try {
        const line = JSON.parse(entry.text) as Record<string, unknown>;
        if (line['event'] === event) found.push(line);
      } catch {
        // not a JSON line
      }
    }
    return found;
  }
}

export interface YggProcess {
  readonly pid: number;
  /** Resolves with the exit code (null after a signal) once the process is gone. */
  readonly exited: Promise<number | null>;
  signal(signal: NodeJS.Signals): void;
  /** SIGKILL to the group; waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (a clean stop) and waits; SIGKILL after `graceMs`. */
  terminate(graceMs?: number): Promise<void>;
}

export function assertBuiltCli(): void {
  if (!existsSync(path.join(REPO_ROOT, 'dist/cli/main.js'))) throw new Error('the chaos suite runs the built CLI: run `npm run build` first (npm run test:chaos does)');
}

export function spawnYgg(source: string, args: readonly string[], book: LogBook): YggProcess {
  assertBuiltCli();
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ygg ${args.join(' ')}`);
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop()!;
      for (const line of lines) if (line !== '') book.add(source, line);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const isRunning = () => child.exitCode === null && child.signalCode === null;
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-pid, name);
    } catch {
      // the group is gone
    }
  };
  return {
    pid,
    exited,
    signal,
    kill: async () => {
      if (!isRunning()) return;
      signal('SIGKILL');
      await exited;
    },
    terminate: async (graceMs = 5000) => {
      if (!isRunning()) return;
      signal('SIGCONT');
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** `ygg ARGS` run to its end: exit code and everything it printed. */
export function runYggOnce(args: readonly string[], timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  assertBuiltCli();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let output = '';
    for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('close', (code) => resolve({ code, output }));
  });
}
