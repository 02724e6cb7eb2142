// The `ygg` processes a dev run starts (controller, agents, renderers): each in its own process
// group, so Ctrl-C reaches ygg dev alone and it stops them in order; each logging to its own file;
// each recorded by identity in the lock as soon as it exists, for the recovery after a crash.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { processIdentity, type ProcessIdentity } from '../agent/process-identity.js';
import type { StartedProcess } from './dev-lock.js';
import { stopProcess } from './stop-processes.js';

export interface DevChild {
  readonly name: string;
  readonly child: ChildProcess;
  readonly identity: ProcessIdentity;
  readonly logFile: string;
  /** Resolves with the exit code (or signal) when the process ends. */
  readonly exited: Promise<number | NodeJS.Signals>;
}

/** This very program, as it was started (bin/ygg.js, or the sources through tsx in tests). */
export function yggArgv(): string[] {
  return [process.execPath, ...process.execArgv, process.argv[1]!];
}

export interface StartChildOptions {
  readonly name: string;
  readonly argv: readonly string[];
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly record: (started: StartedProcess) => Promise<void>;
}

export async function startChild(options: StartChildOptions): Promise<DevChild> {
  const log = openSync(options.logFile, 'a');
  const [command, ...args] = options.argv;
  const child = spawn(command!, args, { stdio: ['ignore', log, log], detached: true, env: options.env ?? process.env });
  closeSync(log);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return adoptChild(options.name, child, options.logFile, options.record);
}

/** A process this run started some other way (etcd), tracked and recorded like the others. */
export async function adoptChild(name: string, child: ChildProcess, logFile: string, record: (started: StartedProcess) => Promise<void>): Promise<DevChild> {
  const exited = new Promise<number | NodeJS.Signals>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.signalCode ?? child.exitCode ?? 0);
    else child.once('exit', (code, signal) => resolve(signal ?? code ?? 0));
  });
  // Read while the process is surely alive: the start time is what tells it from a later holder of the pid.
  const identity = processIdentity(child.pid!) ?? { pid: child.pid!, startTime: 0 };
  await record({ name, ...identity });
  return { name, child, identity, logFile, exited };
}

/** SIGTERM (then SIGKILL) to each child's group, all at once; resolves when all have exited. */
export async function stopChildren(children: readonly DevChild[]): Promise<void> {
  await Promise.all(
    children.map(async (running) => {
      if (running.child.exitCode !== null || running.child.signalCode !== null) return;
      // Our own child: when its identity could not be read at start, the handle still reaches it.
      if (!(await stopProcess(running.identity))) running.child.kill('SIGKILL');
      await running.exited;
    }),
  );
}
