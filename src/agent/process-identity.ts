// Who a pid is. A pid alone names a process only while it lives: after it exits the kernel hands
// the number out again, so an agent that adopted "pid 4242" from a file could signal a stranger.
// The start time (clock ticks since boot, /proc/<pid>/stat field 22) never changes for a process
// and differs for any later holder of the number, so (pid, startTime) is the identity we keep.
// Within one boot: start times count from the boot, so after a reboot a pid file's (pid, startTime)
// can name a stranger that boot started at the same tick. The record names its boot for that.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { inDirectory } from './ensure-directory.js';
import { unlinkIfPresent } from './remove-tree.js';
import { currentBootId } from './boot-id.js';
import { parseStatFields } from './process-metrics.js';

export interface ProcessIdentity {
  readonly pid: number;
  readonly startTime: number;
}

/** The few fields of /proc/<pid>/stat the agent needs. */
export interface ProcessStat extends ProcessIdentity {
  /** One letter: R, S, D, Z (zombie), X (dead), T ... */
  readonly state: string;
  readonly processGroup: number;
}

/** What the agent writes when it starts an instance, so a later agent can adopt it. */
export interface PidFileRecord extends ProcessIdentity {
  readonly specHash: string;
  readonly startedAt: string;
  readonly command: readonly string[];
  /** The boot the process was started in (boot-id.ts); absent from older agents' pid files. */
  readonly bootId?: string;
}

export class PidFileError extends Error {
  readonly code = 'E_PID_FILE_INVALID';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`pid file ${file} is invalid: ${reason}`);
    this.name = 'PidFileError';
  }

  toJSON(): { code: string; file: string; reason: string; message: string } {
    return { code: this.code, file: this.file, reason: this.reason, message: this.message };
  }
}

/**
 * Reads /proc/<pid>/stat; undefined when there is no such process. Synchronous on purpose: procfs
 * reads never block on disk and the supervisor polls this every second per adopted instance.
 */
export function readProcessStat(pid: number, procRoot = '/proc'): ProcessStat | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ESRCH')) return undefined;
    throw error;
  }
  const fields = parseStatFields(text);
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  const state = fields[0];
  const processGroup = Number(fields[2]);
  const startTime = Number(fields[19]);
  if (state === undefined || !Number.isFinite(processGroup) || !Number.isFinite(startTime)) return undefined;
  return { pid, startTime, state, processGroup };
}

/** The identity of a live process; undefined when it is gone or a zombie (exited, not yet reaped). */
export function processIdentity(pid: number, procRoot = '/proc'): ProcessIdentity | undefined {
  const stat = readProcessStat(pid, procRoot);
  if (stat === undefined || isDead(stat)) return undefined;
  return { pid: stat.pid, startTime: stat.startTime };
}

/** True while the very process `identity` names is alive (not merely some process with that pid). */
export function isSameProcess(identity: ProcessIdentity, procRoot = '/proc'): boolean {
  return processIdentity(identity.pid, procRoot)?.startTime === identity.startTime;
}

/**
 * Temp file + rename: a reader (the next agent) sees the old record or the new one, never a torn
 * one, even if this agent is killed mid-write. No fsync: the record describes a process, and only
 * a crash of the machine (not of the agent) can lose unflushed data — which ends the process too,
 * so the record lost or rolled back names nothing alive either way (a torn one reads as invalid).
 */
export async function writePidFile(file: string, record: PidFileRecord): Promise<void> {
  // Unique per write: two overlapping writes must not share (and clobber) one temp file.
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const body = `${JSON.stringify({ pid: record.pid, startTime: record.startTime, specHash: record.specHash, startedAt: record.startedAt, command: record.command, ...(record.bootId !== undefined && { bootId: record.bootId }) })}\n`;
  try {
    // The run directory is there after the first start; one removed by hand is made again.
    await inDirectory(dirname(file), () => writeFile(temp, body, { mode: 0o644 }));
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** undefined when there is no pid file (never started, or stopped cleanly); PidFileError when unreadable as one. */
export async function readPidFile(file: string): Promise<PidFileRecord | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PidFileError(file, 'not JSON');
  }
  if (typeof value !== 'object' || value === null) throw new PidFileError(file, 'not a JSON object');
  const record = value as Record<string, unknown>;
  if (!isPositiveInteger(record.pid)) throw new PidFileError(file, '"pid" is not a positive integer');
  if (!isPositiveInteger(record.startTime) && record.startTime !== 0) throw new PidFileError(file, '"startTime" is not an integer');
  if (typeof record.specHash !== 'string') throw new PidFileError(file, '"specHash" is not a string');
  if (typeof record.startedAt !== 'string') throw new PidFileError(file, '"startedAt" is not a string');
  if (!Array.isArray(record.command) || !record.command.every((part) => typeof part === 'string')) {
    throw new PidFileError(file, '"command" is not an array of strings');
  }
  if (record.bootId !== undefined && typeof record.bootId !== 'string') throw new PidFileError(file, '"bootId" is not a string');
  return {
    pid: record.pid,
    startTime: record.startTime as number,
    specHash: record.specHash,
    startedAt: record.startedAt,
    command: record.command as string[],
    ...(record.bootId !== undefined && { bootId: record.bootId }),
  };
}

export type PidFileRefusal = 'no-pid-file' | 'invalid-pid-file' | 'not-running' | 'pid-reused';

export type PidFileCheck =
  | { readonly alive: true; readonly record: PidFileRecord; readonly processGroup: number }
  | { readonly alive: false; readonly reason: PidFileRefusal };

/** What a live process's pid says of it, as far as a pid file check needs; undefined when none has the pid. */
export type LiveProcess = Pick<ProcessStat, 'startTime' | 'processGroup'>;

/** The OS's answer: /proc, a zombie counting as gone. */
function liveProcessOnOs(pid: number): LiveProcess | undefined {
  const stat = readProcessStat(pid);
  return stat === undefined || isDead(stat) ? undefined : stat;
}

/**
 * Is the process a pid file names still that very process? 'pid-reused' means the number now
 * belongs to another process (different start time): it is not ours and must never be signalled.
 * `lookup` answers what runs under a pid: the OS by default, a pretend table in the fleet simulator.
 */
export async function checkPidFile(file: string, lookup: (pid: number) => LiveProcess | undefined = liveProcessOnOs): Promise<PidFileCheck> {
  let record: PidFileRecord | undefined;
  try {
    record = await readPidFile(file);
  } catch (error) {
    if (error instanceof PidFileError) return { alive: false, reason: 'invalid-pid-file' };
    throw error;
  }
  if (record === undefined) return { alive: false, reason: 'no-pid-file' };
  // Written in an earlier boot: its process ended with that boot, whatever holds the pid now.
  if (record.bootId !== undefined && record.bootId !== (await currentBootId())) return { alive: false, reason: 'not-running' };
  const live = lookup(record.pid);
  if (live === undefined) return { alive: false, reason: 'not-running' };
  if (live.startTime !== record.startTime) return { alive: false, reason: 'pid-reused' };
  return { alive: true, record, processGroup: live.processGroup };
}

export async function removePidFile(file: string): Promise<void> {
  await unlinkIfPresent(file);
}

function isDead(stat: ProcessStat): boolean {
  return stat.state === 'Z' || stat.state === 'X';
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
