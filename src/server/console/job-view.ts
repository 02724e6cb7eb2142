// GET /api/jobs/<name>: one job as an operator debugs it — every instance with what the agent
// reports, the spec in force and the commit that put it there, and the rollout.
import { assignmentsByJob, removalsByJob, statusesByJob, type ObservedState } from '../../controller/observed-state.js';
import type { JobSpec } from '../../model/types.js';
import type { InstanceState, RolloutRecord, StatusRecord } from '../../store/records.js';
import type { JobHealth, JobState } from '../controller-status.js';
import type { FleetFacts, JobSync } from './fleet-facts.js';
import { maskEnv } from './mask-env.js';
import { pageOf, type Page, type PageRequest } from './page.js';

/** NoStatus: assigned, the agent has not reported yet. Removing: the controller decided to stop it there. */
export type InstanceRowState = InstanceState | 'NoStatus' | 'Removing';

export interface InstanceRow {
  readonly host: string;
  readonly job: string;
  readonly ip?: string;
  /** Whether the host's agent holds its lease: a lost host's last report is stale. */
  readonly agentLive: boolean;
  readonly state: InstanceRowState;
  readonly version?: string;
  readonly release?: string;
  readonly pid?: number;
  readonly restarts: number;
  readonly lastError?: string;
  readonly lastExit?: StatusRecord['lastExit'];
  readonly since?: string;
  /** The spec assigned there, and whether the agent reports running exactly it. */
  readonly specHash?: string;
  readonly upToDate: boolean;
  /** The commit that assigned this spec there. */
  readonly commit?: string;
  readonly assignedAt?: string;
  readonly orphaned?: StatusRecord['orphaned'];
}

export interface JobView {
  readonly name: string;
  readonly tag?: string;
  readonly health: JobHealth | null;
  readonly state: JobState;
  readonly sync: JobSync;
  /** The rollout as /api/status shows it (when the controller reports one) and its etcd record. */
  readonly rollout?: JobHealth['rollout'];
  readonly rolloutRecord?: RolloutRecord;
  /** The job's spec in the commit in force (secret-looking env values masked); null when it is not declared there. */
  readonly spec: JobSpec | null;
  readonly file?: string;
  readonly commitInForce: string | null;
  /** The commits that assigned the specs now in place, with how many instances each. */
  readonly assignedBy: readonly { readonly commit: string; readonly instances: number }[];
  readonly services: readonly { readonly name: string; readonly port: string; readonly vip?: string }[];
  /** Instances per state, over all of them (the page below holds only some). */
  readonly states: Readonly<Partial<Record<InstanceRowState, number>>>;
  readonly instances: Page<InstanceRow>;
}

/** Every job name the console knows, for "did you mean". */
export function jobNames(facts: FleetFacts): string[] {
  return [...new Set([...facts.health.keys(), ...(facts.state.inForce?.model.jobs.keys() ?? [])])];
}

/** One instance (host × job) as assigned, reported and possibly being removed. */
export function instanceRow(observed: ObservedState, host: string, job: string): InstanceRow {
  const record = observed.assignments.get(host)?.get(job)?.record;
  const status = observed.statuses.get(host)?.get(job);
  const ip = record?.host.ip ?? observed.hosts?.get(host)?.ip;
  const state: InstanceRowState = observed.removals?.get(host)?.has(job) ? 'Removing' : (status?.state ?? 'NoStatus');
  return {
    host,
    job,
    ...(ip !== undefined && { ip }),
    agentLive: observed.liveAgents.has(host),
    state,
    ...(record && { version: record.spec.version, specHash: record.specHash, commit: record.commit, assignedAt: record.assignedAt }),
    ...(status?.release !== undefined && { release: status.release }),
    ...(status?.pid !== undefined && { pid: status.pid }),
    restarts: status?.restarts ?? 0,
    ...(status?.lastError !== undefined && { lastError: status.lastError }),
    ...(status?.lastExit && { lastExit: status.lastExit }),
    ...(status && { since: status.since }),
    upToDate: record !== undefined && status?.specHash === record.specHash,
    ...(status?.orphaned && { orphaned: status.orphaned }),
  };
}

/** Rows per job, built once per state of the fleet: paging through 10,000 instances rebuilds nothing. */
const rowsByFacts = new WeakMap<FleetFacts, Map<string, InstanceRow[]>>();

function instanceRows(facts: FleetFacts, name: string): InstanceRow[] {
  let byJob = rowsByFacts.get(facts);
  if (!byJob) rowsByFacts.set(facts, (byJob = new Map()));
  let rows = byJob.get(name);
  if (!rows) byJob.set(name, (rows = buildRows(facts.state.observed, name)));
  return rows;
}

function buildRows(observed: ObservedState, name: string): InstanceRow[] {
  const hosts = new Set([...(assignmentsByJob(observed).get(name)?.keys() ?? []), ...(statusesByJob(observed).get(name)?.keys() ?? []), ...(removalsByJob(observed).get(name)?.keys() ?? [])]);
  return [...hosts].sort().map((host) => instanceRow(observed, host, name));
}

export function countStates(rows: readonly InstanceRow[]): Partial<Record<InstanceRowState, number>> {
  const states: Partial<Record<InstanceRowState, number>> = {};
  for (const row of rows) states[row.state] = (states[row.state] ?? 0) + 1;
  return states;
}

/** Undefined when nothing by that name is declared, assigned or reported. */
export function buildJobView(facts: FleetFacts, name: string, page: PageRequest, onlyState?: string): JobView | undefined {
  const { inForce, observed } = facts.state;
  const declared = inForce?.model.jobs.get(name);
  const rows = instanceRows(facts, name);
  if (!declared && rows.length === 0) return undefined;
  const health = facts.health.get(name) ?? null;
  const assignedBy = new Map<string, number>();
  for (const row of rows) if (row.commit !== undefined) assignedBy.set(row.commit, (assignedBy.get(row.commit) ?? 0) + 1);
  const services = [...(inForce?.model.services.values() ?? [])]
    .filter((service) => service.job === name)
    .map((service) => ({ name: service.name, port: service.port, ...(service.vip && { vip: `${service.vip.address}:${service.vip.port}` }) }));
  const rolloutRecord = observed.rollouts.get(name);
  const tag = declared?.tag ?? assignmentsByJob(observed).get(name)?.values().next().value?.record.tag;
  return {
    name,
    ...(tag !== undefined && { tag }),
    health,
    state: health?.state ?? 'Missing',
    sync: facts.sync.get(name) ?? 'Unknown',
    ...(health?.rollout && { rollout: health.rollout }),
    ...(rolloutRecord && { rolloutRecord }),
    spec: declared ? { ...declared.spec, env: maskEnv(declared.spec.env) } : null,
    ...(declared && { file: declared.origin.file }),
    commitInForce: inForce?.commit.sha ?? null,
    assignedBy: [...assignedBy].sort(([, a], [, b]) => b - a).map(([commit, instances]) => ({ commit, instances })),
    services,
    states: countStates(rows),
    instances: pageOf(onlyState ? rows.filter((row) => row.state === onlyState) : rows, page),
  };
}
