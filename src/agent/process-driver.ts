// The one seam between the agent and the operating system's processes: start a job's process,
// tell whether a process a pid file names is still that very process, stop a process group,
// probe a job's health, and read a process's figures for /metrics. Everything else the agent does (etcd, leases, status, naming, releases on
// disk, rollouts) is the same whichever driver runs the processes. The real driver is the OS; the
// fleet simulator (bench/) swaps in one that only pretends, so a thousand real agents fit on one machine.
import type { ChildProcess } from 'node:child_process';
import type { HealthCheck } from '../model/types.js';
import { runHealthCheck, type HealthCheckContext, type HealthResult } from './health-check.js';
import { terminateProcessGroup, type TerminateOptions, type TerminateResult } from './process-group.js';
import { ProcessGoneError, readProcessMetrics, type ProcessSample } from './process-metrics.js';
import { checkPidFile, isSameProcess, type PidFileCheck, type ProcessIdentity } from './process-identity.js';
import { spawnInstance, type SpawnOptions, type SpawnSpec } from './spawn-instance.js';

/** A started process: its identity, its group, and (for a real child) the handle to await its exit. */
export interface DriverProcess extends ProcessIdentity {
  readonly processGroup: number;
  readonly child?: ChildProcess;
}

export interface ProcessDriver {
  /** undefined when options.stillWanted() said no; throws SpawnError when it cannot start. */
  spawn(spec: SpawnSpec, options: SpawnOptions): Promise<DriverProcess | undefined>;
  /** Is the process a pid file names still alive, and the same process (not a reused pid)? */
  checkPidFile(file: string): Promise<PidFileCheck>;
  /** True while the very process `identity` names is alive. */
  isAlive(identity: ProcessIdentity): boolean;
  /** SIGTERM, wait, SIGKILL, for the whole group. */
  terminateGroup(processGroup: number, options: TerminateOptions): Promise<TerminateResult>;
  /** One probe of the job's health check. */
  probeHealth(check: HealthCheck, ports: Readonly<Record<string, number>>, context: HealthCheckContext): Promise<HealthResult>;
  /** The process's cpu, memory, open files and uptime; undefined when no such process runs. */
  processMetrics(pid: number): Promise<ProcessSample | undefined>;
}

/** The operating system: real processes in their own sessions, /proc, signals, real probes. */
export const OS_PROCESS_DRIVER: ProcessDriver = {
  async spawn(spec, options) {
    const spawned = await spawnInstance(spec, options);
    return spawned === undefined ? undefined : { pid: spawned.pid, startTime: spawned.startTime, processGroup: spawned.pid, child: spawned.child };
  },
  checkPidFile: (file) => checkPidFile(file),
  isAlive: (identity) => isSameProcess(identity),
  terminateGroup: (processGroup, options) => terminateProcessGroup(processGroup, options),
  probeHealth: (check, ports, context) => runHealthCheck(check, ports, context),
  async processMetrics(pid) {
    try {
      return await readProcessMetrics(pid);
    } catch (error) {
      if (error instanceof ProcessGoneError) return undefined;
      throw error;
    }
  },
};
