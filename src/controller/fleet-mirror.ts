// What the controller's mirror of etcd holds, and how one key's value enters it: assignments (with
// whether each is intact, i.e. still what the controller wrote), statuses, removals, hosts, agents,
// lost hosts, rollouts, VIPs, zones, live endpoints and renderers' statuses, indexed the ways a
// reconcile and the console read them. Keeping it current from etcd is the informer's part
// (fleet-informer.ts); this module does no I/O.
import { canonicalJson } from '../plan/canonical-json.js';
import { RENDERER_STATUS_NAME, type KeyLayout } from '../store/keys.js';
import {
  isAgentRecord,
  isAssignmentRecord,
  isHostRecord,
  isRemovalRecord,
  isLostHostRecord,
  isNamingRecord,
  isZoneRecord,
  isRolloutRecord,
  isStatusRecord,
  isSyncCurrentRecord,
  isVipRecord,
} from '../store/record-checks.js';
import type { AgentRecord, AssignmentRecord, HostRecord, LostHostRecord, NamingRecord, RemovalRecord, RolloutRecord, StatusRecord, SyncCurrentRecord, VipRecord, ZoneRecord } from '../store/records.js';
import type { RenderStatusRecord } from '../render/render-status.js';
import { shareAssignment } from '../store/shared-values.js';
import type { ObservedAssignment, ObservedState } from './observed-state.js';
import { computeSpecHash } from './spec-hash.js';

type NestedMap<T> = Map<string, Map<string, T>>;

function setNested<T>(map: NestedMap<T>, outer: string, inner: string, value: T | undefined): void {
  let innerMap = map.get(outer);
  if (value === undefined) {
    innerMap?.delete(inner);
    if (innerMap?.size === 0) map.delete(outer);
    return;
  }
  if (!innerMap) {
    innerMap = new Map();
    map.set(outer, innerMap);
  }
  innerMap.set(inner, value);
}

/** A value that does not hash to its own specHash, or sits under another host/job, was edited by hand. */
function observeAssignment(host: string, job: string, record: AssignmentRecord): ObservedAssignment {
  const intact = record.host.name === host && record.job === job && computeSpecHash(record.job, record.tag, record.host, record.spec) === record.specHash;
  return { record, intact };
}

/**
 * The mirror's entry for a record, reusing `held` when the record is the same value: the watch's echo
 * of what the controller wrote (and applied locally) is a second parse of it, which would otherwise
 * replace an object sharing the model's strings with a copy of each, and be hashed again.
 */
function observeOrReuse(host: string, job: string, record: AssignmentRecord, held: ObservedAssignment | undefined): ObservedAssignment {
  const shared = shareAssignment(record);
  if (held && sameRecord(held.record, shared)) return held;
  return observeAssignment(host, job, shared);
}

/** Equal as JSON; the specs, hosts and services are shared (frozen) values, whose canonical texts are remembered. */
function sameRecord(a: AssignmentRecord, b: AssignmentRecord): boolean {
  const same = (x: unknown, y: unknown) => x === y || canonicalJson(x) === canonicalJson(y);
  const samePrevious = (x: AssignmentRecord['previous'], y: AssignmentRecord['previous']) =>
    x === y || (x !== undefined && y !== undefined && x.tag === y.tag && x.specHash === y.specHash && x.commit === y.commit && same(x.host, y.host) && same(x.spec, y.spec));
  return a.specHash === b.specHash && a.commit === b.commit && a.assignedAt === b.assignedAt && a.job === b.job && a.tag === b.tag && same(a.host, b.host) && same(a.spec, b.spec) && same(a.services, b.services) && samePrevious(a.previous, b.previous);
}

/** Both present and equal but for the figures agents refresh on a timer. */
function sameBesidesMetrics(before: StatusRecord | undefined, after: StatusRecord | undefined): boolean {
  if (!before || !after) return false;
  const { metrics: _metrics, updatedAt: _updatedAt, ...rest } = after;
  const { metrics: _metricsBefore, updatedAt: _updatedAtBefore, ...restBefore } = before;
  return canonicalJson(rest) === canonicalJson(restBefore);
}

/** What the mirror holds for people rather than for reconciles. */
export interface MirrorExtras {
  readonly agents: ReadonlyMap<string, AgentRecord>;
  /** service → `host:port` → live endpoint. */
  readonly naming: ReadonlyMap<string, ReadonlyMap<string, NamingRecord>>;
  /** director → its renderer's last status (status/<director>/_render). */
  readonly renders: ReadonlyMap<string, RenderStatusRecord>;
}

const isRenderStatus = (value: unknown): value is RenderStatusRecord => typeof value === 'object' && value !== null && typeof (value as { target?: unknown }).target === 'string';

export class FleetMirror {
  private readonly assignments: NestedMap<ObservedAssignment> = new Map();
  private readonly byJob: NestedMap<ObservedAssignment> = new Map();
  private readonly jobVersions = new Map<string, number>();
  private version = 0;
  private readonly statuses: NestedMap<StatusRecord> = new Map();
  private readonly statusesByJob: NestedMap<StatusRecord> = new Map();
  private readonly removals: NestedMap<RemovalRecord> = new Map();
  private readonly removalsByJob: NestedMap<RemovalRecord> = new Map();
  private readonly hosts = new Map<string, HostRecord>();
  private readonly zones = new Map<string, ZoneRecord>();
  private readonly agents = new Map<string, AgentRecord>();
  private readonly lostSince = new Map<string, number>();
  private readonly rescheduledAt = new Map<string, number>();
  private readonly partitionedHosts = new Set<string>();
  private readonly rollouts = new Map<string, RolloutRecord>();
  private readonly vips = new Map<string, VipRecord>();
  private readonly naming: NestedMap<NamingRecord> = new Map();
  private readonly renders = new Map<string, RenderStatusRecord>();
  private syncCurrent: SyncCurrentRecord | undefined;

  constructor(
    private readonly layout: KeyLayout,
    private readonly onProblem: (key: string, problem: string) => void = () => {},
  ) {}

  observed(): ObservedState {
    return {
      assignments: this.assignments,
      statuses: this.statuses,
      statusesByJob: this.statusesByJob,
      removals: this.removals,
      removalsByJob: this.removalsByJob,
      hosts: this.hosts,
      zones: this.zones,
      liveAgents: new Set(this.agents.keys()),
      // What lost/ holds: the reconcile writes a record when it first sees a lost host, not the mirror.
      lostSince: this.lostSince,
      rescheduledAt: this.rescheduledAt,
      partitionedHosts: this.partitionedHosts,
      rollouts: this.rollouts,
      vips: this.vips,
      byJob: this.byJob,
      jobVersions: this.jobVersions,
    };
  }

  current(): SyncCurrentRecord | undefined {
    return this.syncCurrent;
  }

  extras(): MirrorExtras {
    return { agents: this.agents, naming: this.naming, renders: this.renders };
  }

  /** Replaces everything with `entries` (a fresh read of the prefix). */
  rebuild(entries: ReadonlyMap<string, { value: unknown }>): void {
    this.assignments.clear();
    this.byJob.clear();
    // Versions keep counting up across a rebuild, so no job looks unchanged by mistake.
    for (const job of this.jobVersions.keys()) this.touch(job);
    this.statuses.clear();
    this.statusesByJob.clear();
    this.removals.clear();
    this.removalsByJob.clear();
    this.hosts.clear();
    this.zones.clear();
    this.agents.clear();
    this.lostSince.clear();
    this.rescheduledAt.clear();
    this.partitionedHosts.clear();
    this.rollouts.clear();
    this.vips.clear();
    this.naming.clear();
    this.renders.clear();
    this.syncCurrent = undefined;
    for (const [key, entry] of entries) this.ingest(key, entry.value);
  }

  /**
   * Puts (value) or deletes (undefined) one key of the mirror; a malformed value counts as absent.
   * False when the change cannot alter a reconcile: an agent's facts refreshed (every 30 s, 33
   * puts/s at 1,000 hosts) or an instance's metrics (every 30 s, 333 puts/s at 10,000 instances).
   */
  ingest(key: string, value: unknown): boolean {
    if (!key.startsWith(this.layout.prefix)) return false;
    const [kind, first, second] = key.slice(this.layout.prefix.length).split('/');
    const valid = <T>(check: (candidate: unknown) => candidate is T): T | undefined => {
      if (value === undefined) return undefined;
      if (check(value)) return value;
      this.onProblem(key, `not a valid record: ignored`);
      return undefined;
    };
    if (kind === 'assign' && first && second) {
      const removal = isRemovalRecord(value) ? value : undefined;
      const record = removal ? undefined : valid(isAssignmentRecord);
      const observed = record && observeOrReuse(first, second, record, this.assignments.get(first)?.get(second));
      // Keyed by the record's own names (the model's strings) rather than the key's split parts: two
      // fewer strings per instance, 75,000 times.
      const host = observed?.record.host.name === first ? observed.record.host.name : first;
      const job = observed?.record.job === second ? observed.record.job : second;
      setNested(this.assignments, host, job, observed);
      setNested(this.byJob, job, host, observed);
      setNested(this.removals, host, job, removal);
      setNested(this.removalsByJob, job, host, removal);
      this.touch(job);
    } else if (kind === 'status' && first && second === RENDERER_STATUS_NAME) {
      // The renderers' and agents' own records: a bad one is theirs to report, the console leaves it out.
      if (isRenderStatus(value)) this.renders.set(first, value);
      else this.renders.delete(first);
    } else if (kind === 'naming' && first && second) {
      setNested(this.naming, first, second, isNamingRecord(value) ? value : undefined);
    } else if (kind === 'status' && first && second) {
      const status = valid(isStatusRecord);
      const before = this.statuses.get(first)?.get(second);
      setNested(this.statuses, first, second, status);
      setNested(this.statusesByJob, second, first, status);
      if (sameBesidesMetrics(before, status)) return false;
      this.touch(second);
    } else if (kind === 'hosts' && first) {
      const record = valid(isHostRecord);
      if (record) this.hosts.set(first, record);
      else this.hosts.delete(first);
    } else if (kind === 'zones' && first) {
      const record = valid(isZoneRecord);
      if (record) this.zones.set(first, record);
      else this.zones.delete(first);
    } else if (kind === 'agents' && first) {
      const record = valid(isAgentRecord);
      const wasLive = this.agents.has(first);
      if (record) this.agents.set(first, record);
      else this.agents.delete(first);
      return wasLive !== (record !== undefined);
    } else if (kind === 'lost' && first) {
      this.ingestLostHost(first, valid(isLostHostRecord));
    } else if (kind === 'rollouts' && first) {
      const record = valid(isRolloutRecord);
      if (record) this.rollouts.set(first, record);
      else this.rollouts.delete(first);
      this.touch(first);
    } else if (kind === 'vips' && first) {
      const record = valid(isVipRecord);
      if (record) this.vips.set(first, record);
      else this.vips.delete(first);
    } else if (kind === 'sync' && first === 'current') {
      this.syncCurrent = valid(isSyncCurrentRecord);
    }
    return true;
  }

  /** A lost/ record with a time that does not parse counts as absent: the next reconcile writes a good one. */
  private ingestLostHost(host: string, record: LostHostRecord | undefined): void {
    const sinceMs = record ? Date.parse(record.since) : NaN;
    const rescheduledAtMs = record?.rescheduledAt === undefined ? undefined : Date.parse(record.rescheduledAt);
    this.lostSince.delete(host);
    this.rescheduledAt.delete(host);
    this.partitionedHosts.delete(host);
    if (!record) return;
    if (Number.isNaN(sinceMs) || Number.isNaN(rescheduledAtMs)) {
      this.onProblem(this.layout.lostHost(host), 'a time that does not parse: ignored');
      return;
    }
    this.lostSince.set(host, sinceMs);
    if (rescheduledAtMs !== undefined) this.rescheduledAt.set(host, rescheduledAtMs);
    if (record.partitioned) this.partitionedHosts.add(host);
  }

  private touch(job: string): void {
    this.jobVersions.set(job, ++this.version);
  }

}
