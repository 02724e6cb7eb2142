// One `ygg dev` per directory. The lock file names the running ygg dev (pid + start time, so a
// reused pid is not mistaken for it), its console, and every process it started, so that the run
// after a crash (kill -9, a power cut) can find and stop what the crashed one left running.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, rename, rm, writeFile } from 'node:fs/promises';
import { isSameProcess, processIdentity, type ProcessIdentity } from '../agent/process-identity.js';

export interface StartedProcess extends ProcessIdentity {
  readonly name: string;
}

export interface DevLockRecord extends ProcessIdentity {
  readonly consoleUrl?: string;
  readonly etcdUrl?: string;
  readonly processes: readonly StartedProcess[];
}

export class DevAlreadyRunningError extends Error {
  readonly code = 'E_DEV_RUNNING';
  constructor(
    readonly pid: number,
    readonly consoleUrl: string | undefined,
  ) {
    super(`already running (pid ${pid})${consoleUrl ? `, console at ${consoleUrl}` : ', still starting'}`);
    this.name = 'DevAlreadyRunningError';
  }
}

export interface DevLock {
  /** The record a crashed run left behind, for recovery; undefined after a clean stop. */
  readonly stale: DevLockRecord | undefined;
  update(change: Partial<Omit<DevLockRecord, 'pid' | 'startTime' | 'processes'>>): Promise<void>;
  addProcess(process: StartedProcess): Promise<void>;
  release(): Promise<void>;
}

/** Takes the lock, or throws DevAlreadyRunningError while the ygg dev that holds it lives. */
export async function acquireDevLock(file: string): Promise<DevLock> {
  const self = processIdentity(process.pid);
  if (!self) throw new Error('cannot read this process in /proc');
  let stale: DevLockRecord | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      // 'wx': of two ygg dev starting at once, exactly one creates the file.
      const handle = await open(file, 'wx', 0o644);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw error;
    }
    const holder = readLock(file);
    if (holder && isSameProcess(holder)) throw new DevAlreadyRunningError(holder.pid, holder.consoleUrl);
    // Dead holder (or a file torn by a crash mid-write): ours to recover, once.
    stale ??= holder;
    await rm(file, { force: true });
  }
  let record: DevLockRecord = { pid: self.pid, startTime: self.startTime, processes: [] };
  // Writes in order: a later record never lands before an earlier one.
  let writing = Promise.resolve();
  const save = () => (writing = writing.then(() => writeLock(file, record)));
  await save();
  return {
    stale,
    update: (change) => {
      record = { ...record, ...change };
      return save();
    },
    addProcess: (started) => {
      record = { ...record, processes: [...record.processes, started] };
      return save();
    },
    release: async () => {
      await writing;
      await rm(file, { force: true });
    },
  };
}

export function readLock(file: string): DevLockRecord | undefined {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevLockRecord>;
    if (typeof value.pid !== 'number' || typeof value.startTime !== 'number') return undefined;
    return { ...value, processes: Array.isArray(value.processes) ? value.processes : [] } as DevLockRecord;
  } catch {
    return undefined;
  }
}

async function writeLock(file: string, record: DevLockRecord): Promise<void> {
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, `${JSON.stringify(record)}\n`);
  await rename(temp, file);
}
