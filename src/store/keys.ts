// The etcd key layout (DESIGN.md §3): the contract between controller, agents and renderers.
// Every key lives under the repo's etcdPrefix (default /ygg/v1). Names in keys are the schema's
// names (lowercase letters, digits, dots, hyphens), so they never contain a `/`.

export interface KeyLayout {
  readonly prefix: string;
  readonly leader: string;
  agent(host: string): string;
  readonly agents: string;
  /** An AssignmentRecord, or a RemovalRecord (the explicit decision to stop the job there). */
  assignment(host: string, job: string): string;
  /** All assignments, or one host's. */
  assignments(host?: string): string;
  status(host: string, job: string): string;
  statuses(host?: string): string;
  naming(service: string, host: string, port: number): string;
  /** One host's naming entries of a service: `naming/<service>/<host>:`. Host names never hold a
   * `:`, so this prefix is exactly that host's (what etcd-setup grants the host's agent). */
  hostNamings(service: string, host: string): string;
  /** All naming entries, or one service's. */
  namings(service?: string): string;
  vip(service: string): string;
  readonly vips: string;
  /** The Host documents of the commit in force: which hosts (and directors) exist. */
  host(name: string): string;
  readonly hosts: string;
  readonly syncCurrent: string;
  /** Sortable by time: `sync/history/<ISO time>-<sha>`. */
  syncHistory(time: Date, sha: string): string;
  readonly syncHistories: string;
  /** A job's rollout that failed and was reverted: the controller does not retry that spec. */
  rollout(job: string): string;
  readonly rollouts: string;
  /** A host the controller saw assigned without a live agent: since when, and when its replicas started to move. */
  lostHost(host: string): string;
  readonly lostHosts: string;
  /** The Zone documents of the commit in force, resolved: what DNS renderers render. */
  zone(origin: string): string;
  readonly zones: string;
}

export const DEFAULT_ETCD_PREFIX = '/ygg/v1';

/** status/<director>/_render: the renderer's own state. "_" never appears in a job name, so it cannot collide. */
export const RENDERER_STATUS_NAME = '_render';

export function keyLayout(prefix = DEFAULT_ETCD_PREFIX): KeyLayout {
  const base = prefix.replace(/\/+$/, '');
  const key = (...parts: string[]) => [base, ...parts].join('/');
  const hostNamings = (service: string, host: string) => key('naming', service, `${host}:`);
  return {
    prefix: `${base}/`,
    leader: key('leader'),
    agent: (host) => key('agents', host),
    agents: key('agents', ''),
    assignment: (host, job) => key('assign', host, job),
    assignments: (host) => (host === undefined ? key('assign', '') : key('assign', host, '')),
    status: (host, job) => key('status', host, job),
    statuses: (host) => (host === undefined ? key('status', '') : key('status', host, '')),
    naming: (service, host, port) => hostNamings(service, host) + String(port),
    hostNamings,
    namings: (service) => (service === undefined ? key('naming', '') : key('naming', service, '')),
    vip: (service) => key('vips', service),
    vips: key('vips', ''),
    host: (name) => key('hosts', name),
    hosts: key('hosts', ''),
    syncCurrent: key('sync', 'current'),
    syncHistory: (time, sha) => key('sync', 'history', `${time.toISOString()}-${sha}`),
    syncHistories: key('sync', 'history', ''),
    rollout: (job) => key('rollouts', job),
    rollouts: key('rollouts', ''),
    lostHost: (host) => key('lost', host),
    lostHosts: key('lost', ''),
    zone: (origin) => key('zones', origin),
    zones: key('zones', ''),
  };
}

/** The segments after a prefix: `assign/h1/web` under `assign/` → ['h1', 'web']. */
export function keySegments(key: string, prefix: string): string[] {
  return key.startsWith(prefix) ? key.slice(prefix.length).split('/') : [];
}
