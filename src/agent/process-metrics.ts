// Per-process figures for basic monitoring, read from /proc (Linux only): cpu seconds, resident
// memory, open file descriptors, uptime. Cheap enough to read for every instance on every scrape:
// three small procfs reads and one readdir per pid, no exec.
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

export interface ProcessSample {
  readonly pid: number;
  /** User + system time, in seconds. */
  readonly cpuSeconds: number;
  readonly rssBytes: number;
  readonly openFds: number;
  readonly uptimeSeconds: number;
  /** Clock ticks after boot the process started (/proc/<pid>/stat field 22): with the pid, its identity. */
  readonly startTimeTicks: number;
}

/** The pid does not exist (any more): the instance exited between listing and reading. */
export class ProcessGoneError extends Error {
  readonly code = 'E_PROCESS_GONE';
  constructor(readonly pid: number) {
    super(`process ${pid} does not exist`);
    this.name = 'ProcessGoneError';
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, pid: this.pid };
  }
}

export interface SystemUnits {
  readonly clockTicksPerSecond: number;
  readonly pageSizeBytes: number;
}

/** What nearly every Linux reports (USER_HZ is fixed at 100 for userspace; 4 KiB pages on x86-64). */
export const DEFAULT_SYSTEM_UNITS: SystemUnits = { clockTicksPerSecond: 100, pageSizeBytes: 4096 };

const execFileAsync = promisify(execFile);
let systemUnits: Promise<SystemUnits> | undefined;

/**
 * Asks getconf once per process: arm64 kernels often use 64 KiB pages, and guessing 4096 there
 * would under-report memory 16-fold. Falls back to the defaults where getconf is missing.
 */
export function readSystemUnits(): Promise<SystemUnits> {
  systemUnits ??= (async () => {
    const ask = async (name: string, fallback: number) => {
      try {
        const value = Number((await execFileAsync('getconf', [name])).stdout.trim());
        return Number.isFinite(value) && value > 0 ? value : fallback;
      } catch {
        return fallback;
      }
    };
    const [clockTicksPerSecond, pageSizeBytes] = await Promise.all([ask('CLK_TCK', DEFAULT_SYSTEM_UNITS.clockTicksPerSecond), ask('PAGESIZE', DEFAULT_SYSTEM_UNITS.pageSizeBytes)]);
    return { clockTicksPerSecond, pageSizeBytes };
  })();
  return systemUnits;
}

export interface ProcessMetricsOptions {
  readonly procRoot?: string;
  readonly units?: SystemUnits;
}

export async function readProcessMetrics(pid: number, options: ProcessMetricsOptions = {}): Promise<ProcessSample> {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new ProcessGoneError(pid);
  const procRoot = options.procRoot ?? '/proc';
  const units = options.units ?? (await readSystemUnits());
  const [stat, statm, fds, uptime] = await Promise.all([
    readProcFile(`${procRoot}/${pid}/stat`, pid),
    readProcFile(`${procRoot}/${pid}/statm`, pid),
    readProcDir(`${procRoot}/${pid}/fd`, pid),
    readFile(`${procRoot}/uptime`, 'utf8'),
  ]);
  const fields = parseStatFields(stat);
  const field = (n: number) => Number(fields[n - 3]);
  const startTimeTicks = field(22);
  const systemUptimeSeconds = Number(uptime.split(' ')[0]);
  return {
    pid,
    cpuSeconds: (field(14) + field(15)) / units.clockTicksPerSecond,
    // statm's second field: resident pages (the same figure as stat field 24, without the comm pitfalls)
    rssBytes: Number(statm.split(' ')[1]) * units.pageSizeBytes,
    openFds: fds,
    uptimeSeconds: Math.max(0, systemUptimeSeconds - startTimeTicks / units.clockTicksPerSecond),
    startTimeTicks,
  };
}

/** Fields 3.. of /proc/<pid>/stat. comm (field 2) may hold spaces and ')': split after the last ')'. */
export function parseStatFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ');
}

async function readProcFile(file: string, pid: number): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw mapGone(error, pid);
  }
}

async function readProcDir(dir: string, pid: number): Promise<number> {
  try {
    return (await readdir(dir)).length;
  } catch (error) {
    throw mapGone(error, pid);
  }
}

function mapGone(error: unknown, pid: number): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  // ESRCH: the process exited while its directory was open
  return code === 'ENOENT' || code === 'ESRCH' ? new ProcessGoneError(pid) : error;
}
