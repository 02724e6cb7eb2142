// A job's `resources` as cgroup v2 limits: ROOT/ygg/<job>/{memory.max,cpu.max}, the pid moved in
// through cgroup.procs (children it forks later inherit the cgroup). Limits are a safeguard, not a
// precondition: on a host where the agent may not write cgroups (cgroup v1, a read-only
// /sys/fs/cgroup in a container, no delegation) the job runs without them and the operator is told
// once per kind of problem, not on every restart of every instance.
//
// Known gap: the pid is moved in just after spawn, so whatever the job forks in its first
// microseconds stays outside. Node cannot spawn straight into a cgroup (CLONE_INTO_CGROUP).
import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ResourceLimits {
  readonly memoryMB?: number;
  readonly cpu?: number;
}

export type CgroupErrorCode = 'E_CGROUP_UNAVAILABLE' | 'E_CGROUP_NOT_WRITABLE' | 'E_CGROUP_CONTROLLER_MISSING' | 'E_CGROUP_WRITE' | 'E_CGROUP_BAD_NAME';

export class CgroupError extends Error {
  constructor(
    readonly code: CgroupErrorCode,
    readonly path: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cgroup limits not applied (${path}): ${reason}; running without limits`, options);
    this.name = 'CgroupError';
  }

  toJSON(): { code: string; path: string; reason: string; message: string } {
    return { code: this.code, path: this.path, reason: this.reason, message: this.message };
  }
}

export type CgroupOutcome =
  | { readonly status: 'applied'; readonly path: string }
  /** The job asks for no limits: nothing to do, nothing to warn about. */
  | { readonly status: 'none' }
  | { readonly status: 'unavailable'; readonly error: CgroupError };

export interface CgroupLimiterOptions {
  /** The cgroup v2 mount; a test points it at a plain directory. */
  readonly root?: string;
  /** The agent's subtree under root. */
  readonly parent?: string;
  /** Called once per error code for the limiter's lifetime. */
  readonly onWarning?: (error: CgroupError) => void;
}

/** cpu.max's period; 100 ms is the kernel default and what `docker --cpus` uses. */
const CPU_PERIOD_US = 100_000;
/** The kernel refuses a quota under 1 ms. */
const MIN_CPU_QUOTA_US = 1_000;

export class CgroupLimiter {
  private readonly root: string;
  private readonly parent: string;
  private readonly warned = new Set<CgroupErrorCode>();

  constructor(private readonly options: CgroupLimiterOptions = {}) {
    this.root = options.root ?? '/sys/fs/cgroup';
    this.parent = options.parent ?? 'ygg';
  }

  /** Never throws: a failure is returned (and warned once), the job runs on regardless. */
  async apply(job: string, pid: number, limits: ResourceLimits): Promise<CgroupOutcome> {
    if (limits.memoryMB === undefined && limits.cpu === undefined) return { status: 'none' };
    try {
      return { status: 'applied', path: await this.applyOrThrow(job, pid, limits) };
    } catch (error) {
      const cgroupError = error instanceof CgroupError ? error : new CgroupError('E_CGROUP_WRITE', this.jobPath(job), describe(error), { cause: error });
      if (!this.warned.has(cgroupError.code)) {
        this.warned.add(cgroupError.code);
        this.options.onWarning?.(cgroupError);
      }
      return { status: 'unavailable', error: cgroupError };
    }
  }

  /** Removes the job's cgroup once its processes are gone; a busy or missing one is left as it is. */
  async remove(job: string): Promise<void> {
    if (!isSafeName(job)) return;
    try {
      await rmdir(this.jobPath(job));
    } catch {
      // ENOENT: never created (no limits, or no cgroups). EBUSY: something still runs in it, and
      // the next start of the job reuses the directory anyway.
    }
  }

  private async applyOrThrow(job: string, pid: number, limits: ResourceLimits): Promise<string> {
    const jobPath = this.jobPath(job);
    if (!isSafeName(job)) throw new CgroupError('E_CGROUP_BAD_NAME', jobPath, `"${job}" is not usable as a cgroup name`);
    const needed = [...(limits.memoryMB !== undefined ? ['memory'] : []), ...(limits.cpu !== undefined ? ['cpu'] : [])];

    const rootControllers = join(this.root, 'cgroup.controllers');
    try {
      await access(rootControllers);
    } catch (cause) {
      throw new CgroupError('E_CGROUP_UNAVAILABLE', this.root, `no cgroup v2 hierarchy at ${this.root} (${rootControllers} is missing)`, { cause });
    }
    const available = (await readFile(rootControllers, 'utf8')).split(/\s+/);
    const missing = needed.filter((controller) => !available.includes(controller));
    if (missing.length > 0) throw new CgroupError('E_CGROUP_CONTROLLER_MISSING', this.root, `controller(s) ${missing.join(', ')} not available`);

    const parentPath = join(this.root, this.parent);
    try {
      await mkdir(parentPath, { recursive: true });
    } catch (cause) {
      throw new CgroupError('E_CGROUP_NOT_WRITABLE', parentPath, `cannot create it: ${describe(cause)}`, { cause });
    }
    // A controller's files appear in a child only once the parent delegates it (cgroup.subtree_control).
    await enableControllers(this.root, needed);
    await enableControllers(parentPath, needed);
    await mkdir(jobPath, { recursive: true }).catch((cause: unknown) => {
      throw new CgroupError('E_CGROUP_NOT_WRITABLE', jobPath, `cannot create it: ${describe(cause)}`, { cause });
    });

    // An absent limit is written as "max" so one dropped from the spec is lifted, not left behind.
    const memoryMax = limits.memoryMB === undefined ? 'max' : String(Math.round(limits.memoryMB * 1024 * 1024));
    const cpuMax = limits.cpu === undefined ? `max ${CPU_PERIOD_US}` : `${Math.max(MIN_CPU_QUOTA_US, Math.round(limits.cpu * CPU_PERIOD_US))} ${CPU_PERIOD_US}`;
    if (available.includes('memory')) await writeControl(join(jobPath, 'memory.max'), memoryMax);
    if (available.includes('cpu')) await writeControl(join(jobPath, 'cpu.max'), cpuMax);
    await writeControl(join(jobPath, 'cgroup.procs'), String(pid));
    return jobPath;
  }

  private jobPath(job: string): string {
    return join(this.root, this.parent, job);
  }
}

async function enableControllers(path: string, controllers: readonly string[]): Promise<void> {
  const file = join(path, 'cgroup.subtree_control');
  let enabled: string[] = [];
  try {
    enabled = (await readFile(file, 'utf8')).split(/\s+/);
  } catch {
    // Not there yet (only possible on a test directory): written below.
  }
  const toEnable = controllers.filter((controller) => !enabled.includes(controller));
  if (toEnable.length === 0) return;
  await writeControl(file, toEnable.map((controller) => `+${controller}`).join(' '));
}

/** Control files take one write(2) each; writeFile of a short string is one. */
async function writeControl(file: string, value: string): Promise<void> {
  try {
    await writeFile(file, value);
  } catch (cause) {
    throw new CgroupError('E_CGROUP_WRITE', file, `cannot write "${value}": ${describe(cause)}`, { cause });
  }
}

function isSafeName(job: string): boolean {
  return job !== '' && job !== '.' && job !== '..' && !job.includes('/') && !job.includes('\0');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
