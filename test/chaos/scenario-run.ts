// One scenario from bring-up to its table row: start a fleet, let the scenario inject its faults in
// trials (each: the fault, then the wait for convergence, both inside the window where log lines and
// CPU are counted), collect what the observers saw, and tear everything down whatever happened.
import { ChaosFleet, PREFIX, type ChaosFleetOptions } from './chaos-fleet.js';
import { parseJson, type EtcdReader } from './etcd-reader.js';

export interface ScenarioRow {
  readonly scenario: string;
  readonly trials: number;
  readonly converged: number;
  readonly restarted: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly droppedRealServers: number;
  /** ms; undefined when no trial converged. */
  readonly worstConvergeMs: number | undefined;
  readonly logLinesPerSecond: number;
  readonly cpuPercent: number;
  /** Broken promises the columns do not show (exit codes, doubled writes, invalid configs...). */
  readonly violations: readonly string[];
  /** Facts worth reading next to the numbers. */
  readonly notes: readonly string[];
}

export interface Scenario {
  readonly name: string;
  /** What the system promises under this fault (README and failure messages). */
  readonly promise: string;
  run(reduced: boolean): Promise<ScenarioRow>;
}

/** A drain takes 2 s: an agent's reaction to a fault shows within this after etcd looks repaired. */
const SETTLE_MS = 2500;

export class TrialLog {
  trials = 0;
  converged = 0;
  worstConvergeMs: number | undefined;
  readonly violations: string[] = [];
  readonly notes: string[] = [];

  constructor(private readonly fleet: ChaosFleet) {}

  /**
   * Runs `fault` as one trial: its window lasts until the fleet converged again and stayed so for
   * `settleMs` (or the timeout passed).
   */
  async trial(label: string, fault: () => Promise<void>, { timeoutMs = this.fleet.options.reduced ? 30_000 : 60_000, settleMs = SETTLE_MS } = {}): Promise<boolean> {
    this.trials++;
    return this.fleet.fault(async () => {
      await fault();
      const result = await this.fleet.waitConverged(timeoutMs, settleMs);
      if (result.ms === undefined) {
        this.violations.push(`${label}: not converged after ${timeoutMs / 1000} s (${result.lastReason})`);
        return false;
      }
      this.converged++;
      this.worstConvergeMs = Math.max(this.worstConvergeMs ?? 0, result.ms);
      return true;
    });
  }

  violation(text: string): void {
    this.violations.push(text);
  }

  note(text: string): void {
    this.notes.push(text);
  }
}

export async function runScenario(options: ChaosFleetOptions, body: (fleet: ChaosFleet, log: TrialLog) => Promise<void>): Promise<ScenarioRow> {
  let fleet: ChaosFleet;
  try {
    fleet = await ChaosFleet.start(options);
  } catch (error) {
    return { ...emptyRow(options.name), violations: [`bring-up failed: ${(error as Error).message}`] };
  }
  const log = new TrialLog(fleet);
  let failure: unknown;
  try {
    await body(fleet, log);
  } catch (error) {
    failure = error;
    log.violation(`aborted: ${(error as Error).stack ?? String(error)}`);
  }
  let row: ScenarioRow | undefined;
  try {
    const counts = fleet.instances.counted();
    const keepalived = await fleet.keepalivedFindings();
    const violations = [...log.violations, ...keepalived.invalidContents.map((problem) => `invalid keepalived.conf rendered: ${problem}`)];
    if (keepalived.missingSamples > 0) violations.push(`keepalived.conf missing in ${keepalived.missingSamples} samples`);
    const notes = [...log.notes, ...counts.restartDetails.slice(0, 3)];
    if (keepalived.droppedSamples > 0) notes.push(`${keepalived.droppedSamples} of ${keepalived.samples} keepalived samples short of the healthy endpoints, the first at ${new Date(keepalived.firstDroppedAtMs!).toISOString()}`);
    row = {
      scenario: options.name,
      trials: log.trials,
      converged: log.converged,
      restarted: counts.restarts,
      lost: counts.lost,
      duplicated: counts.duplicated,
      droppedRealServers: keepalived.droppedMax,
      worstConvergeMs: log.worstConvergeMs,
      logLinesPerSecond: fleet.logLinesPerSecond(),
      cpuPercent: fleet.instances.cpuPercent(),
      violations,
      notes,
    };
  } finally {
    const logFile = await fleet.close(failure ?? (row && zeroGoalFailures(row).length > 0 ? 'zero goal missed' : undefined));
    if (logFile && row) row = { ...row, notes: [...row.notes, `logs: ${logFile}`] };
  }
  return row;
}

function emptyRow(scenario: string): ScenarioRow {
  return { scenario, trials: 0, converged: 0, restarted: 0, lost: 0, duplicated: 0, droppedRealServers: 0, worstConvergeMs: undefined, logLinesPerSecond: 0, cpuPercent: 0, violations: [], notes: [] };
}

/** The zero-goals a row misses; empty when the scenario kept every promise. */
export function zeroGoalFailures(row: ScenarioRow): string[] {
  const failures: string[] = [];
  if (row.trials === 0) failures.push('no trial ran');
  if (row.converged < row.trials) failures.push(`${row.trials - row.converged} of ${row.trials} trials did not converge`);
  if (row.restarted > 0) failures.push(`${row.restarted} job restarts nobody asked for`);
  if (row.lost > 0) failures.push(`${row.lost} instances lost`);
  if (row.duplicated > 0) failures.push(`${row.duplicated} instances duplicated`);
  if (row.droppedRealServers > 0) failures.push(`${row.droppedRealServers} real servers wrongly dropped`);
  return [...failures, ...row.violations];
}

/** The etcd revision now: writes after it are what a scenario checks for doubles. */
export async function currentRevision(reader: EtcdReader): Promise<number> {
  return (await reader.range(`${PREFIX}/assign/`)).revision;
}

/**
 * Assignment writes that repeat the one before on the same key (same spec, same commit): the
 * controller did a write twice, e.g. a restarted or deposed leader redoing a batch.
 */
export async function doubledAssignWrites(reader: EtcdReader, fromRevision: number, prefix = PREFIX): Promise<string[]> {
  const last = new Map<string, string>();
  const doubled: string[] = [];
  for (const put of await reader.puts(`${prefix}/assign/`, fromRevision)) {
    const record = parseJson(put.value) as { specHash?: string; commit?: string; removed?: boolean } | undefined;
    const identity = `${record?.specHash ?? '?'}@${record?.commit ?? '?'}${record?.removed ? ' removed' : ''}`;
    if (last.get(put.key) === identity) doubled.push(`${put.key.slice(prefix.length + 1)} ${identity.slice(0, 12)} at revision ${put.revision}`);
    last.set(put.key, identity);
  }
  return doubled;
}

/** sync/current going back to a commit it had already left: a stale leader's write landed. */
export async function syncCurrentRegressions(reader: EtcdReader, fromRevision: number, prefix = PREFIX): Promise<string[]> {
  const left = new Set<string>();
  let last: string | undefined;
  const regressions: string[] = [];
  for (const put of await reader.puts(`${prefix}/sync/current`, fromRevision)) {
    const sha = (parseJson(put.value) as { commit?: { sha?: string } } | undefined)?.commit?.sha ?? '?';
    if (sha === last) continue;
    if (left.has(sha)) regressions.push(`sync/current back to ${sha.slice(0, 8)} at revision ${put.revision}`);
    if (last !== undefined) left.add(last);
    last = sha;
  }
  return regressions;
}
