// GET /api/hosts/<name>: one machine — what the repo declares, what its agent reports about the
// machine, whether it is lost (and since when), and the instances it runs.
import type { Host } from '../../model/types.js';
import type { AgentRecord, HostRecord } from '../../store/records.js';
import type { FleetFacts } from './fleet-facts.js';
import { countStates, instanceRow, type InstanceRow, type InstanceRowState } from './job-view.js';
import { pageOf, type Page, type PageRequest } from './page.js';

export interface HostView {
  readonly name: string;
  /** The Host document of the commit in force, else the hosts/ record the controller last wrote. */
  readonly declared: Pick<Host, 'ip' | 'labels' | 'state'> | null;
  readonly file?: string;
  /** The agent's heartbeat with the machine's facts; null while no agent holds the host's lease. */
  readonly agent: AgentRecord | null;
  /** Set while the controller counts the host as lost. */
  readonly lost: { readonly since: string; readonly rescheduledAt?: string; readonly partitioned: boolean } | null;
  readonly states: Readonly<Partial<Record<InstanceRowState, number>>>;
  readonly instances: Page<InstanceRow>;
}

export function hostNames(facts: FleetFacts): string[] {
  const { inForce, observed, extras } = facts.state;
  return [...new Set([...(inForce?.model.hosts.keys() ?? []), ...(observed.hosts?.keys() ?? []), ...extras.agents.keys(), ...observed.assignments.keys(), ...observed.statuses.keys()])];
}

export function buildHostView(facts: FleetFacts, name: string, page: PageRequest): HostView | undefined {
  const { inForce, observed, extras } = facts.state;
  const document = inForce?.model.hosts.get(name);
  const record: HostRecord | undefined = observed.hosts?.get(name);
  const jobs = new Set([...(observed.assignments.get(name)?.keys() ?? []), ...(observed.statuses.get(name)?.keys() ?? []), ...(observed.removals?.get(name)?.keys() ?? [])]);
  const agent = extras.agents.get(name) ?? null;
  if (!document && !record && !agent && jobs.size === 0) return undefined;
  const declared = document ?? record;
  const rows = [...jobs].sort().map((job) => instanceRow(observed, name, job));
  const since = observed.lostSince.get(name);
  const rescheduledAt = observed.rescheduledAt.get(name);
  return {
    name,
    declared: declared ? { ip: declared.ip, labels: declared.labels, state: declared.state } : null,
    ...(document && { file: document.origin.file }),
    agent,
    lost:
      since === undefined
        ? null
        : { since: new Date(since).toISOString(), ...(rescheduledAt !== undefined && { rescheduledAt: new Date(rescheduledAt).toISOString() }), partitioned: observed.partitionedHosts?.has(name) ?? false },
    states: countStates(rows),
    instances: pageOf(rows, page),
  };
}
