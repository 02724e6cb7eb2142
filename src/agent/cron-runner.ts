// One instance's cron tasks (log cleanup and the like), scheduled by croner — five fields as in
// crontab, six with seconds. Each run is the rendered argv (never a shell) with the job's env and
// cwd, its output appended to LOGDIR/cron-<name>.log. A run still going when the next one is due is
// not doubled: the due run is skipped and counted, as a stuck cleanup must not pile up copies.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { Cron } from 'croner';
import type { InstanceSpec } from '../plan/render-instance.js';
import { signalProcessGroup, type StopSignal } from './process-group.js';

export type CronTaskSpec = InstanceSpec['cron'][number];

export interface CronRunExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** Killed because it ran past the task's timeoutSeconds. */
  readonly timedOut: boolean;
  /** The command could not be started (ENOENT, EACCES): no exit code exists. */
  readonly error?: string;
}

export interface CronTaskStatus {
  /** When the last run started (ISO). */
  readonly lastRun?: string;
  readonly lastExit?: CronRunExit;
  readonly lastDurationMs?: number;
  /** Runs that were due while the previous run of the task was still going. */
  readonly skipped: number;
  readonly runs: number;
  readonly running: boolean;
  readonly nextRun?: string;
}

export interface CronRunnerOptions {
  readonly job: string;
  readonly tasks: readonly CronTaskSpec[];
  /** The release directory, as for the job's own process. */
  readonly cwd: string;
  /** The whole environment of each run, built as for the job itself. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The job's log directory (ROOT/log/<job>); created if missing. */
  readonly logDir: string;
  /** After a timeout's SIGTERM, how long a run may clean up before SIGKILL. Default 5000. */
  readonly killGraceMs?: number;
  /** Called after each run ends, e.g. to refresh status/<host>/<job>. */
  readonly onRunEnd?: (task: string, status: CronTaskStatus) => void;
}

/** A task's schedule or command cannot run. The loader checks schedules, so this means a foreign spec. */
export class CronTaskError extends Error {
  readonly code = 'E_CRON_TASK';
  constructor(
    readonly job: string,
    readonly task: string,
    reason: string,
  ) {
    super(`cron task ${task} of job ${job}: ${reason}`);
    this.name = 'CronTaskError';
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, job: this.job, task: this.task };
  }
}

interface TaskState {
  readonly spec: CronTaskSpec;
  readonly schedule: Cron;
  status: Omit<CronTaskStatus, 'running' | 'nextRun'>;
  run?: RunningTask;
}

interface RunningTask {
  /** Unset while the log file is being opened. */
  child: ChildProcess | undefined;
  done: Promise<void>;
}

export class CronRunner {
  private readonly tasks = new Map<string, TaskState>();
  private stopped = false;

  /** Validates every task (throws CronTaskError) before any is scheduled: all or nothing. */
  constructor(private readonly options: CronRunnerOptions) {
    const schedules: [CronTaskSpec, Cron][] = [];
    try {
      for (const spec of options.tasks) {
        if (spec.command.length === 0) throw new CronTaskError(options.job, spec.name, 'command is empty');
        if (this.tasks.has(spec.name) || schedules.some(([other]) => other.name === spec.name)) throw new CronTaskError(options.job, spec.name, 'duplicate task name');
        let schedule: Cron;
        try {
          // paused until start(); catch: a throwing callback must not kill the agent
          schedule = new Cron(spec.schedule, { paused: true, catch: true }, () => this.fire(spec.name));
        } catch (error) {
          throw new CronTaskError(options.job, spec.name, `invalid schedule "${spec.schedule}": ${(error as Error).message}`);
        }
        schedules.push([spec, schedule]);
      }
    } catch (error) {
      for (const [, schedule] of schedules) schedule.stop();
      throw error;
    }
    for (const [spec, schedule] of schedules) this.tasks.set(spec.name, { spec, schedule, status: { skipped: 0, runs: 0 } });
  }

  async start(): Promise<void> {
    await mkdir(this.options.logDir, { recursive: true });
    if (this.stopped) return;
    for (const task of this.tasks.values()) task.schedule.resume();
  }

  status(): Record<string, CronTaskStatus> {
    const result: Record<string, CronTaskStatus> = {};
    for (const name of [...this.tasks.keys()].sort()) {
      const task = this.tasks.get(name)!;
      const next = this.stopped ? null : task.schedule.nextRun();
      result[name] = { ...task.status, running: task.run !== undefined, ...(next ? { nextRun: next.toISOString() } : {}) };
    }
    return result;
  }

  /** Stops every schedule and kills the runs in progress (their whole process group); resolves when they have exited. */
  async stop(): Promise<void> {
    this.stopped = true;
    const running: Promise<void>[] = [];
    for (const task of this.tasks.values()) {
      task.schedule.stop();
      if (task.run) {
        signalGroup(task.run.child, 'SIGKILL');
        running.push(task.run.done);
      }
    }
    await Promise.all(running);
  }

  private fire(name: string): void {
    const task = this.tasks.get(name);
    if (!task || this.stopped) return;
    if (task.run) {
      task.status = { ...task.status, skipped: task.status.skipped + 1 };
      return;
    }
    task.run = this.runTask(task);
  }

  private runTask(task: TaskState): RunningTask {
    const { spec } = task;
    const [file, ...args] = spec.command as [string, ...string[]];
    const startedAt = new Date();
    const logFile = path.join(this.options.logDir, `cron-${spec.name}.log`);
    const finish = (lastExit: CronRunExit) => {
      task.status = { ...task.status, lastRun: startedAt.toISOString(), lastExit, lastDurationMs: Date.now() - startedAt.getTime(), runs: task.status.runs + 1 };
    };
    const run: RunningTask = { child: undefined, done: Promise.resolve() };
    run.done = (async () => {
      const log = await open(logFile, 'a');
      try {
        await log.write(`--- ${startedAt.toISOString()} start: ${JSON.stringify(spec.command)}\n`);
        // stop() came while the log was opening: do not start what would be killed at once
        if (this.stopped) return finish({ code: null, signal: null, timedOut: false, error: 'stopped before it started' });
        // detached: its own process group, so a timeout or stop() reaches whatever the task started
        const child = spawn(file, args, { cwd: this.options.cwd, env: this.options.env, detached: true, stdio: ['ignore', log.fd, log.fd] });
        run.child = child;
        const exit = await this.awaitExit(child, spec.timeoutSeconds);
        const how = exit.error ?? (exit.code !== null ? `exit ${exit.code}` : `killed by ${exit.signal}`);
        await log.write(`--- ${new Date().toISOString()} ${how}${exit.timedOut ? ` (timed out after ${spec.timeoutSeconds} s)` : ''}\n`);
        finish(exit);
      } finally {
        await log.close();
      }
    })()
      .catch((error: unknown) => finish({ code: null, signal: null, timedOut: false, error: `log ${logFile}: ${(error as Error).message}` }))
      .finally(() => {
        task.run = undefined;
        this.options.onRunEnd?.(spec.name, this.status()[spec.name]!);
      });
    return run;
  }

  private awaitExit(child: ChildProcess, timeoutSeconds: number | undefined): Promise<CronRunExit> {
    return new Promise((resolve) => {
      let timedOut = false;
      let killTimer: NodeJS.Timeout | undefined;
      const timeoutTimer =
        timeoutSeconds === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              signalGroup(child, 'SIGTERM');
              killTimer = setTimeout(() => signalGroup(child, 'SIGKILL'), this.options.killGraceMs ?? 5000);
            }, timeoutSeconds * 1000);
      const finish = (exit: CronRunExit) => {
        clearTimeout(timeoutTimer);
        clearTimeout(killTimer);
        resolve(exit);
      };
      child.once('error', (error) => finish({ code: null, signal: null, timedOut, error: `cannot start: ${(error as NodeJS.ErrnoException).code ?? error.message}` }));
      child.once('exit', (code, signal) => {
        // the leader is gone; what it left behind in its group is killed if it overran its time
        if (timedOut) signalGroup(child, 'SIGKILL');
        finish({ code, signal, timedOut });
      });
    });
  }
}

/** A run is its own process group (detached): signal the whole group, grandchildren included. */
function signalGroup(child: ChildProcess | undefined, signal: StopSignal): void {
  if (child?.pid !== undefined) signalProcessGroup(child.pid, signal);
}
