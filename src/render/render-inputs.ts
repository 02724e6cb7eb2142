// The records a render is made from, as the view last saw them (keys relative to the etcd prefix):
// vips/<service>, naming/<service>/<host>:<port>, sync/current (the commit in force, for the
// header and the render gate), hosts/<host> (which directors exist), agents/<host> and lost/<host>
// (whose agent is gone, whether the controller moved its replicas, and where each agent serves
// /metrics), zones/<origin> (the zones a DNS render is made from). Pure: the view feeds it.
//
// In a director's file, an endpoint whose naming entry vanished while its host's agent is gone (a
// lease that ran out: the agent died, or a partition cut it off from etcd) is kept: the job may well still serve, keepalived
// health-checks every real server itself, and dropping it would empty the LB for a reason that is
// not the fleet's. It goes when the agent is back (it registers what is really healthy), when the
// controller releases the host's replicas to move (lost/<host> rescheduledAt), or when the host
// leaves the repo. An agent that deregisters on purpose (a drain) is alive, so that entry goes at once
// (telling the two apart: vanished-endpoints.ts).
//
// A value that is not a valid record never takes anything away: a key that held a valid record
// keeps it (the last good value), a new key is left out; either way the problem is kept and
// reported with every render until the key is fixed or deleted. A hand edit or a buggy writer
// must not be able to drop a real server, nor block the render of every other one.
import { isNamingRecord, isSyncCurrentRecord, isVipRecord, isZoneRecord } from '../store/record-checks.js';
import type { NamingRecord, VipRecord, ZoneRecord } from '../store/records.js';
import { compareEndpoints, compareText } from './compare-endpoints.js';
import type { RenderData, RenderHost, RenderService, SkippedInput } from './render-data.js';
import { checkToken } from './render-values.js';
import { VanishedEndpoints } from './vanished-endpoints.js';

const VIPS = 'vips/';
const NAMING = 'naming/';
const HOSTS = 'hosts/';
const AGENTS = 'agents/';
const LOST = 'lost/';
const ZONES = 'zones/';
const SYNC_CURRENT = 'sync/current';

export class RenderInputs {
  private readonly vips = new Map<string, VipRecord>();
  private readonly zones = new Map<string, ZoneRecord>();
  /** service → `host:port` → record */
  private readonly endpoints = new Map<string, Map<string, NamingRecord>>();
  /** hosts/<host>: name → the host's IP and labels. */
  private readonly hosts = new Map<string, { readonly ip: string; readonly labels: Readonly<Record<string, string>> }>();
  /** host → where its agent last said it serves /metrics: kept when the agent dies, so monitoring sees it down. */
  private readonly metricsAddresses = new Map<string, string>();
  /** Lost hosts whose replicas the controller released to move elsewhere. */
  private readonly released = new Set<string>();
  /** Vanished naming entries, and which hosts have a live agent record. */
  private readonly vanished = new VanishedEndpoints();
  private syncCommit: string | undefined;
  /** Counts every change a render could see (refreshed agent facts are none). */
  private changes = 0;
  /** relative key → why its value was not taken */
  private readonly invalid = new Map<string, string>();

  /** Whether a change of `key` can change a render. */
  static reads(key: string): boolean {
    return key.startsWith(VIPS) || key.startsWith(NAMING) || key.startsWith(HOSTS) || key.startsWith(AGENTS) || key.startsWith(LOST) || key.startsWith(ZONES) || key === SYNC_CURRENT;
  }

  /** Whether a change of `key` changes what is served (and so the revision a render names). */
  static serves(key: string): boolean {
    return key.startsWith(VIPS) || key.startsWith(NAMING) || key.startsWith(ZONES);
  }

  /** Moves whenever a render could come out different. */
  get version(): number {
    return this.changes;
  }

  /** A put: returns the problem when the value is not a valid record (and was not taken). */
  put(key: string, value: unknown): string | undefined {
    const problem = this.take(key, value);
    if (problem === undefined) {
      this.invalid.delete(key);
      return undefined;
    }
    return this.reject(key, problem);
  }

  /** A value that cannot be taken (not JSON, not the record): returns the problem as reported. */
  reject(key: string, problem: string): string {
    const reported = `${problem}; ${this.has(key) ? 'kept the last valid value' : 'left out'}`;
    // The render reports what it skipped.
    if (this.invalid.get(key) !== reported) this.changes++;
    this.invalid.set(key, reported);
    return reported;
  }

  /** A delete at `revision` (etcd's mod revision of the delete). */
  remove(key: string, revision: string): void {
    this.changes++;
    this.invalid.delete(key);
    if (key === SYNC_CURRENT) this.syncCommit = undefined;
    else if (key.startsWith(VIPS)) this.vips.delete(key.slice(VIPS.length));
    else if (key.startsWith(ZONES)) this.zones.delete(key.slice(ZONES.length));
    else if (key.startsWith(HOSTS)) {
      this.hosts.delete(key.slice(HOSTS.length));
      this.metricsAddresses.delete(key.slice(HOSTS.length));
    }
    else if (key.startsWith(AGENTS)) this.vanished.agentGone(key.slice(AGENTS.length), BigInt(revision));
    else if (key.startsWith(LOST)) this.released.delete(key.slice(LOST.length));
    else if (key.startsWith(NAMING)) {
      const [service, address] = namingParts(key);
      const byAddress = this.endpoints.get(service);
      const record = byAddress?.get(address);
      if (record) this.vanished.remember(service, address, record, BigInt(revision));
      byAddress?.delete(address);
      if (byAddress?.size === 0) this.endpoints.delete(service);
    }
  }

  /** A whole range again (after a compaction or a reset) read at `revision`: keys under `scope` (a
   * relative key prefix; '' for all) not in it are gone. */
  replaceAll(values: ReadonlyMap<string, unknown>, rejected: readonly SkippedInput[], revision: string, scope = ''): void {
    const present = new Set([...values.keys(), ...rejected.map((entry) => entry.key)]);
    for (const key of this.keys()) if (key.startsWith(scope) && !present.has(key)) this.remove(key, revision);
    for (const key of [...this.invalid.keys()]) if (key.startsWith(scope) && !present.has(key)) this.invalid.delete(key);
    for (const [key, value] of values) this.put(key, value);
    for (const { key, problem } of rejected) this.reject(key, problem);
  }

  /** The services a director serves (its VIPs), or every service with a VIP or endpoints and the zones (DNS). */
  current(director: string | undefined, revision: string): RenderData {
    const names = new Set([...this.vips.keys(), ...(director === undefined ? this.endpoints.keys() : [])]);
    const services: RenderService[] = [];
    for (const name of [...names].sort(compareText)) {
      const vip = this.vips.get(name);
      if (director !== undefined && !vip?.directors.includes(director)) continue;
      // Only the LB keeps them: keepalived checks its real servers, a DNS zone has no health check.
      const endpoints = [...(this.endpoints.get(name)?.values() ?? []), ...(director !== undefined ? this.keptEndpoints(name) : [])]
        .map((record) => ({ host: record.host, ip: record.ip, port: record.port, weight: record.weight, job: record.job, ...(record.tag !== undefined && { tag: record.tag }) }))
        .sort(compareEndpoints);
      // A service without a VIP is known only by its endpoints: DNS names them directly.
      services.push(vip ? { name, job: vip.job, port: vip.port, vip: vip.vip, directors: [...vip.directors].sort(compareText), endpoints } : { name, job: endpoints[0]?.job ?? '', port: '', directors: [], endpoints });
    }
    const rendered = new Set(services.map((service) => service.name));
    // A bad naming entry of a service this file does not render is not this file's problem.
    const skipped = this.skippedInputs()
      .filter(({ key }) => !key.startsWith(NAMING) || rendered.has(namingParts(key)[0]));
    return {
      ...(director !== undefined && { director }),
      services,
      ...(director === undefined && { zones: [...this.zones.values()].sort((a, b) => compareText(a.zone, b.zone)) }),
      ...(this.syncCommit !== undefined && { commit: this.syncCommit }),
      revision,
      ...(director === undefined && { hosts: this.hostList() }),
      ...(skipped.length > 0 && { skipped }),
    };
  }

  private hostList(): RenderHost[] {
    return [...this.hosts.keys()].sort(compareText).map((name) => {
      const metricsAddress = this.metricsAddresses.get(name);
      return { name, ...this.hosts.get(name)!, ...(metricsAddress !== undefined && { metricsAddress }) };
    });
  }

  /** The vanished entries of a service still worth serving: their host's agent is gone, nothing moved them. */
  private keptEndpoints(service: string): NamingRecord[] {
    const kept: NamingRecord[] = [];
    for (const [address, record] of this.vanished.wentWithAgent(service)) {
      // Judged, not forgotten: a hosts/ list being rewritten (after a wipe) must not lose them for good.
      const gone = this.hosts.size > 0 && !this.hosts.has(record.host);
      if (!gone && !this.released.has(record.host) && !this.endpoints.get(service)?.has(address)) kept.push(record);
    }
    return kept;
  }

  /** How many real servers are served only because their host's agent is gone (see the note above). */
  get keptRecords(): number {
    return this.vanished.count;
  }

  /** Every value not taken, by key. */
  skippedInputs(): SkippedInput[] {
    return [...this.invalid].sort(([a], [b]) => compareText(a, b)).map(([key, problem]) => ({ key, problem }));
  }

  /**
   * The addresses of hosts whose agent is alive. A real server of one of them that leaves the file
   * was deregistered by its agent on purpose (a drain, a failing health check, a commit scaling the
   * job down): the fleet's own reason, which the render gate does not hold.
   */
  liveAddresses(): Set<string> {
    const addresses = new Set<string>();
    for (const host of this.vanished.liveAgents) {
      const ip = this.hosts.get(host)?.ip;
      if (ip) addresses.add(ip);
    }
    return addresses;
  }

  /** Directors named by a VIP record or by a hosts/ record. */
  knownDirectors(): Set<string> {
    return new Set([...[...this.vips.values()].flatMap((vip) => vip.directors), ...this.hosts.keys()]);
  }

  get commit(): string | undefined {
    return this.syncCommit;
  }

  get vipRecords(): number {
    return this.vips.size;
  }

  get namingRecords(): number {
    let count = 0;
    for (const byAddress of this.endpoints.values()) count += byAddress.size;
    return count;
  }

  /** Stores a valid value; returns the problem of an invalid one (leaving the last good value). */
  private take(key: string, value: unknown): string | undefined {
    if (key === SYNC_CURRENT) {
      if (!isSyncCurrentRecord(value)) return invalidRecord('SyncCurrentRecord', isSyncCurrentRecord.problems(value));
      const problem = checkToken(value.commit.sha);
      if (problem !== undefined) return `commit.sha: ${problem}`;
      this.syncCommit = value.commit.sha;
    } else if (key.startsWith(VIPS)) {
      if (!isVipRecord(value)) return invalidRecord('VipRecord', isVipRecord.problems(value));
      this.vips.set(key.slice(VIPS.length), value);
    } else if (key.startsWith(ZONES)) {
      const origin = key.slice(ZONES.length);
      if (!isZoneRecord(value)) return invalidRecord('ZoneRecord', isZoneRecord.problems(value));
      if (value.zone !== origin) return `not a Zone record of ${JSON.stringify(origin)}`;
      this.zones.set(origin, value);
    } else if (key.startsWith(HOSTS)) {
      const name = key.slice(HOSTS.length);
      const record = value as { name?: unknown; ip?: unknown; labels?: unknown } | null;
      if (record?.name !== name) return `not a Host record named ${JSON.stringify(name)}`;
      this.hosts.set(name, { ip: typeof record.ip === 'string' ? record.ip : '', labels: stringValues(record.labels) });
    } else if (key.startsWith(AGENTS)) {
      const host = key.slice(AGENTS.length);
      const address = (value as { metricsAddress?: unknown } | null)?.metricsAddress;
      const moved = typeof address === 'string' && address !== this.metricsAddresses.get(host);
      if (moved) this.metricsAddresses.set(host, address);
      // Refreshed facts every 30 s are no change to render.
      if (this.vanished.agentAlive(host) && !moved) return undefined;
      this.vanished.agentBack(host);
    } else if (key.startsWith(LOST)) {
      const host = key.slice(LOST.length);
      const released = (value as { rescheduledAt?: unknown } | null)?.rescheduledAt !== undefined;
      if (released === this.released.has(host)) return undefined;
      if (released) {
        this.released.add(host);
        this.vanished.forgetHost(host);
      } else this.released.delete(host);
    } else if (key.startsWith(NAMING)) {
      const [service, address] = namingParts(key);
      if (service === '' || address === '') return 'not a key naming/<service>/<host>:<port>';
      if (!isNamingRecord(value)) return invalidRecord('NamingRecord', isNamingRecord.problems(value));
      let byAddress = this.endpoints.get(service);
      if (!byAddress) this.endpoints.set(service, (byAddress = new Map()));
      byAddress.set(address, value);
      this.vanished.forget(service, address);
    }
    this.changes++;
    return undefined;
  }

  private has(key: string): boolean {
    if (key === SYNC_CURRENT) return this.syncCommit !== undefined;
    if (key.startsWith(VIPS)) return this.vips.has(key.slice(VIPS.length));
    if (key.startsWith(ZONES)) return this.zones.has(key.slice(ZONES.length));
    if (key.startsWith(HOSTS)) return this.hosts.has(key.slice(HOSTS.length));
    if (key.startsWith(AGENTS)) return this.vanished.agentAlive(key.slice(AGENTS.length));
    if (key.startsWith(LOST)) return this.released.has(key.slice(LOST.length));
    const [service, address] = namingParts(key);
    return this.endpoints.get(service)?.has(address) ?? false;
  }

  private keys(): string[] {
    return [
      ...(this.syncCommit !== undefined ? [SYNC_CURRENT] : []),
      ...[...this.vips.keys()].map((service) => VIPS + service),
      ...[...this.zones.keys()].map((origin) => ZONES + origin),
      ...[...this.hosts.keys()].map((host) => HOSTS + host),
      ...[...this.vanished.liveAgents].map((host) => AGENTS + host),
      ...[...this.released].map((host) => LOST + host),
      ...[...this.endpoints].flatMap(([service, byAddress]) => [...byAddress.keys()].map((address) => `${NAMING}${service}/${address}`)),
    ];
  }
}

/** The string values of a labels object; anything else is no labels. */
function stringValues(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

function invalidRecord(record: string, problems: readonly string[]): string {
  return `not a valid ${record}: ${problems.slice(0, 3).join('; ')}`;
}

function namingParts(key: string): [service: string, address: string] {
  const [service = '', address = '', ...rest] = key.slice(NAMING.length).split('/');
  return rest.length > 0 ? ['', ''] : [service, address];
}
