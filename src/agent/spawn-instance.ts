// Starts one process of a job the way the guardian needs it: argv without a shell, its own session
// (detached: its own process group, so the group can be stopped as one and a signal to the agent's
// group does not reach it), stdout/stderr straight into the log files, and a minimal environment.
import { spawn, type ChildProcess } from 'node:child_process';
import { openLogFiles } from './log-writer.js';
import { readProcessStat } from './process-identity.js';

export interface SpawnSpec {
  /** argv; command[0] is looked up in PATH, never run through a shell. */
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly logDir: string;
}

export interface SpawnedInstance {
  readonly child: ChildProcess;
  readonly pid: number;
  /** From /proc: with pid, the identity written to the pid file. */
  readonly startTime: number;
}

export interface SpawnOptions {
  /** Attached before anything else can run, so an exit is never missed. */
  readonly onExit: (code: number | null, signal: NodeJS.Signals | null) => void;
  /** Asked once the log files are open: false (a stop came in meanwhile) → nothing is spawned. */
  readonly stillWanted?: () => boolean;
  /** Variables passed from the agent's own environment unless the job sets them. */
  readonly inheritEnv?: readonly string[];
}

export const DEFAULT_INHERITED_ENV: readonly string[] = ['PATH', 'LANG', 'LC_ALL', 'TZ'];

/** Spawn errors a retry cannot cure: a release directory never changes, so a missing binary stays missing. */
const PERMANENT_ERRNOS = new Set(['ENOENT', 'EACCES', 'ENOTDIR', 'ENOEXEC', 'EISDIR']);

export class SpawnError extends Error {
  readonly code = 'E_SPAWN';
  /** True when retrying the same command in the same directory cannot succeed. */
  readonly permanent: boolean;
  readonly errno: string | undefined;

  constructor(
    readonly command: readonly string[],
    cause: unknown,
  ) {
    super(`cannot start ${JSON.stringify(command[0])}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'SpawnError';
    const errno = (cause as { code?: unknown } | undefined)?.code;
    this.errno = typeof errno === 'string' ? errno : undefined;
    this.permanent = this.errno !== undefined && PERMANENT_ERRNOS.has(this.errno);
  }

  toJSON(): { code: string; errno: string | undefined; permanent: boolean; message: string } {
    return { code: this.code, errno: this.errno, permanent: this.permanent, message: this.message };
  }
}

/** undefined when stillWanted() said no; SpawnError when the process could not be started. */
export async function spawnInstance(spec: SpawnSpec, options: SpawnOptions): Promise<SpawnedInstance | undefined> {
  let logs;
  try {
    logs = await openLogFiles(spec.logDir);
  } catch (error) {
    throw new SpawnError(spec.command, error);
  }
  let spawnError: Promise<Error> | undefined;
  let spawned: SpawnedInstance | undefined;
  try {
    if (options.stillWanted?.() === false) return undefined;
    const [file, ...args] = spec.command as [string, ...string[]];
    const child = spawn(file, args, { cwd: spec.cwd, env: jobEnvironment(spec.env, options.inheritEnv), detached: true, stdio: ['ignore', logs.stdout, logs.stderr] });
    // Listeners go on before any await: an 'error' nobody listens to would crash the agent.
    if (child.pid === undefined) {
      spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    } else {
      child.on('exit', options.onExit);
      child.on('error', () => {}); // a failed kill(); stop() watches /proc, not this
      // The agent's lifetime is not tied to its jobs' (its own timers keep it alive).
      child.unref();
      // Until its 'exit' is handled the child is at worst an unreaped zombie, so its stat is there.
      spawned = { child, pid: child.pid, startTime: readProcessStat(child.pid)?.startTime ?? 0 };
    }
  } catch (error) {
    throw new SpawnError(spec.command, error);
  } finally {
    // The child has its own copies of the descriptors.
    await logs.close();
  }
  if (spawnError !== undefined) throw new SpawnError(spec.command, await spawnError);
  return spawned;
}

/** The environment a job sees: a few of the agent's variables (PATH...) under the job's own env. */
export function jobEnvironment(jobEnv: Readonly<Record<string, string>>, inherit: readonly string[] = DEFAULT_INHERITED_ENV): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of inherit) {
    if (process.env[key] !== undefined) env[key] = process.env[key];
  }
  return { ...env, ...jobEnv };
}
