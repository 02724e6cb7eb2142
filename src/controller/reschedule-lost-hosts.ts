// Which lost hosts give up their replicas in this step. Losing one host is a host failure: after
// rescheduleAfterSeconds its replicas move. Losing many at once is more likely a partition between
// etcd and part of the fleet, or etcd itself in trouble, where moving replicas would only double
// them; so moves are rate-limited, and stop altogether while one idc has lost too many hosts (as
// Kubernetes' node lifecycle controller stops evicting in a disrupted zone). The lost-since clock
// lives in lost/<host>, so a new leader neither restarts it nor forgets which hosts already moved.
// Pure: the time comes in, the lost/ writes go out.
import type { Model } from '../model/types.js';
import { IDC_LABEL, type LostHosts } from '../plan/place-instances.js';
import type { KeyLayout } from '../store/keys.js';
import type { LostHostRecord } from '../store/records.js';
import type { ObservedState } from './observed-state.js';
import type { AuditAction, StoreOp } from './reconcile-fleet.js';

/** The window maxHostsPercentPerMinute counts hosts in. */
export const RESCHEDULE_WINDOW_MS = 60_000;

/**
 * One lost host is a host failure, whatever its share of a small idc; two or more lost at once past
 * the threshold are treated as a partition. (Kubernetes asks for more than 2, but our idcs can be
 * 3 hosts: 2 of 3 gone at once is far likelier a network or etcd problem than two dead machines.)
 */
export const MIN_LOST_HOSTS_FOR_PARTITION = 2;

/** An idc with more of its hosts lost than the threshold allows. */
export interface LostIdc {
  readonly idc: string;
  readonly lost: number;
  readonly hosts: number;
}

export interface RescheduleDecision extends LostHosts {
  /** lost/<host> puts and deletes, each with its audit action: written before the moves they allow. */
  readonly writes: readonly { readonly op: StoreOp; readonly action: AuditAction }[];
  /** Set while a partition holds every move: the idcs that look partitioned. */
  readonly partition?: readonly LostIdc[];
  /** When a lost host becomes due, or the rate limit lets the next one go. */
  readonly wakeAtMs?: number;
}

export interface RescheduleInput {
  readonly model: Model;
  readonly observed: ObservedState;
  readonly layout: KeyLayout;
  readonly nowMs: number;
}


export function rescheduleLostHosts({ model, observed, layout, nowMs }: RescheduleInput): RescheduleDecision {
  const isLive = (host: string) => observed.liveAgents.has(host);
  const isAssigned = (host: string) => (observed.assignments.get(host)?.size ?? 0) > 0;
  const windowStartMs = nowMs - RESCHEDULE_WINDOW_MS;
  const recentlyRescheduled = (host: string) => (observed.rescheduledAt.get(host) ?? -Infinity) > windowStartMs;
  /** Assigned hosts without a live agent: the ones that matter for health, partitions and moves. */
  const assignedLost = [...observed.assignments.keys()].filter((host) => isAssigned(host) && !isLive(host)).sort();
  // A host whose replicas all moved away keeps its record while it counts against the rate limit.
  const lost = new Set([...assignedLost, ...[...observed.lostSince.keys()].filter((host) => !isLive(host) && recentlyRescheduled(host))]);
  // An idc's hosts are its online hosts that hold assignments or run an agent: idle hosts without one say nothing.
  const partition = partitionedIdcs(model, assignedLost, (host) => isLive(host) || isAssigned(host));
  const flagged = observed.partitionedHosts ?? new Set<string>();
  // A partition marks its lost hosts; once it heals, their clock starts again from now.
  const toFlag = partition.length > 0 ? [...lost].filter((host) => !flagged.has(host)) : [];
  const restarted = partition.length > 0 ? [] : [...lost].filter((host) => flagged.has(host));
  const since = (host: string) => (restarted.includes(host) ? nowMs : (observed.lostSince.get(host) ?? nowMs));
  const evacuate = new Set(partition.length > 0 ? [] : assignedLost.filter((host) => observed.rescheduledAt.has(host)));
  const rescheduleAfterMs = model.config.rescheduleAfterSeconds * 1000;
  const waiting = partition.length > 0 ? [] : assignedLost.filter((host) => !evacuate.has(host) && holdsReplicas(model, observed, host));
  const due = waiting.filter((host) => nowMs - since(host) >= rescheduleAfterMs).sort((a, b) => since(a) - since(b) || (a < b ? -1 : 1));
  const recent = [...observed.rescheduledAt].filter(([host, atMs]) => lost.has(host) && atMs > windowStartMs).map(([, atMs]) => atMs);
  const budget = Math.max(1, Math.floor((model.hosts.size * model.config.reschedule.maxHostsPercentPerMinute) / 100));
  const released = due.slice(0, Math.max(0, budget - recent.length));
  for (const host of released) evacuate.add(host);

  const writes: { op: StoreOp; action: AuditAction }[] = [];
  for (const host of [...observed.lostSince.keys()].sort()) {
    // Gone from lost/ when the agent is back, or when the host holds nothing the record could matter for.
    if (!lost.has(host)) writes.push({ op: { delete: layout.lostHost(host) }, action: { type: isLive(host) ? 'host.back' : 'host.cleared', host } });
  }
  for (const host of [...lost].sort()) {
    const releasedNow = released.includes(host);
    const reflagged = toFlag.includes(host) || restarted.includes(host);
    if (observed.lostSince.has(host) && !releasedNow && !reflagged) continue;
    const rescheduledAtMs = releasedNow ? nowMs : observed.rescheduledAt.get(host);
    const record: LostHostRecord = {
      host,
      since: new Date(since(host)).toISOString(),
      ...(rescheduledAtMs !== undefined ? { rescheduledAt: new Date(rescheduledAtMs).toISOString() } : {}),
      ...(partition.length > 0 ? { partitioned: true as const } : {}),
    };
    const action: AuditAction = releasedNow ? { type: 'host.reschedule', host, lostSince: record.since } : { type: 'host.lost', host };
    writes.push({ op: { put: layout.lostHost(host), value: record }, action });
  }

  const wakes = waiting.filter((host) => !due.includes(host)).map((host) => since(host) + rescheduleAfterMs);
  if (due.length > released.length) wakes.push(Math.min(nowMs, ...recent) + RESCHEDULE_WINDOW_MS);
  return {
    lost,
    evacuate,
    writes,
    ...(partition.length > 0 ? { partition } : {}),
    ...(wakes.length > 0 ? { wakeAtMs: Math.min(...wakes) } : {}),
  };
}

/** Whether any assignment on the host is of a job with `replicas`: only those can move. */
function holdsReplicas(model: Model, observed: ObservedState, host: string): boolean {
  for (const job of observed.assignments.get(host)?.keys() ?? []) if (model.jobs.get(job)?.spec.replicas !== undefined) return true;
  return false;
}

/** Idcs where more than unhealthyIdcThresholdPercent of the online hosts that `count`, and at least MIN_LOST_HOSTS_FOR_PARTITION, are lost. */
function partitionedIdcs(model: Model, assignedLost: readonly string[], count: (host: string) => boolean): LostIdc[] {
  if (assignedLost.length < MIN_LOST_HOSTS_FOR_PARTITION) return [];
  const lost = new Set(assignedLost);
  const counts = new Map<string, { lost: number; hosts: number }>();
  for (const host of model.hosts.values()) {
    if (host.state !== 'online' || !count(host.name)) continue;
    const idc = host.labels[IDC_LABEL] ?? '';
    const idcCount = counts.get(idc) ?? { lost: 0, hosts: 0 };
    idcCount.hosts++;
    if (lost.has(host.name)) idcCount.lost++;
    counts.set(idc, idcCount);
  }
  const threshold = model.config.reschedule.unhealthyIdcThresholdPercent;
  return [...counts]
    .filter(([, idcCount]) => idcCount.lost >= MIN_LOST_HOSTS_FOR_PARTITION && idcCount.lost * 100 > threshold * idcCount.hosts)
    .map(([idc, idcCount]) => ({ idc, ...idcCount }))
    .sort((a, b) => (a.idc < b.idc ? -1 : 1));
}

/** `idc lg: 8/19 hosts lost — treated as a partition; not rescheduling`, one line per idc. */
export function describePartition(partition: readonly LostIdc[]): string {
  return partition.map(({ idc, lost, hosts }) => `idc ${idc === '' ? '(no idc label)' : idc}: ${lost}/${hosts} hosts lost`).join(', ') + ' — treated as a partition; not rescheduling';
}
