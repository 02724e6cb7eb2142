// The declarative model: plain data for one commit's desired state.
// Objects parsed from an unchanged blob are shared across loads (content-addressed cache),
// so nothing here may be mutated after loading.

export const API_VERSION = 'ygg/v1';

export type Kind = 'Repo' | 'Host' | 'TreeNode' | 'Job' | 'Service' | 'Zone';

/** Where a document came from: the repo-relative file and its index among the file's documents. */
export interface DocumentOrigin {
  readonly file: string;
  readonly docIndex: number;
}

export interface RepoConfig {
  readonly etcdPrefix: string;
  readonly pruneGuard: { readonly maxDeletePercent: number };
  readonly rescheduleAfterSeconds: number;
  readonly reschedule: RescheduleLimits;
  /** While a commit with this in force is applied, the next one is applied only when signed by a signer the controller's flags allow. */
  readonly requireSignedCommits: boolean;
  /** The folder the fleet lives in; only in a top-level ygg.yaml that points there. */
  readonly root?: string;
  /** Globs of the files that are fleet YAML (default: every .yaml/.yml file). */
  readonly paths?: readonly string[];
  /** Globs of files that are not, even where `paths` matches them. */
  readonly ignore?: readonly string[];
  /** Bounds on what the loader reads, each over its default when not set. */
  readonly limits?: Partial<RepoLimits>;
}

/** What loading one commit may cost; anything over a limit is refused before it is parsed. */
export interface RepoLimits {
  readonly maxFileBytes: number;
  readonly maxDocumentsPerFile: number;
  readonly maxAliasesPerFile: number;
  readonly maxFiles: number;
  readonly maxTotalBytes: number;
}

/** How fast replicas leave lost hosts, and when mass loss stops them (a partition, not host failures). */
export interface RescheduleLimits {
  /** Per minute, at most this share of the fleet's hosts (at least one host) start moving their replicas away. */
  readonly maxHostsPercentPerMinute: number;
  /** More than this share of one idc's hosts lost at once is taken for a partition: nothing moves. */
  readonly unhealthyIdcThresholdPercent: number;
}

export const DEFAULT_REPO_CONFIG: RepoConfig = {
  etcdPrefix: '/ygg/v1',
  pruneGuard: { maxDeletePercent: 30 },
  rescheduleAfterSeconds: 300,
  reschedule: { maxHostsPercentPerMinute: 10, unhealthyIdcThresholdPercent: 30 },
  requireSignedCommits: false,
};

export type HostState = 'online' | 'spare' | 'maintenance';

export interface Host {
  readonly name: string;
  readonly ip: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly state: HostState;
  readonly origin: DocumentOrigin;
}

export interface TreeNode {
  readonly tag: string;
  readonly owners: readonly string[];
  /** Exactly one of hosts / selector is set (the schema enforces it). */
  readonly hosts?: readonly string[];
  readonly selector?: Readonly<Record<string, string>>;
  readonly origin: DocumentOrigin;
}

export interface Artifact {
  readonly path?: string;
  readonly url?: string;
  readonly sha256: string;
}

export interface ConfigFile {
  readonly path: string;
  readonly template: string;
  readonly mode?: string;
}

export interface DependencyFile {
  readonly path: string;
  readonly source?: string;
  readonly url?: string;
  readonly sha256: string;
}

export interface CronTask {
  readonly name: string;
  readonly schedule: string;
  readonly command: readonly string[];
  readonly timeoutSeconds?: number;
}

/**
 * http and tcp checks connect to the host's IP (the Host document's ip, the address naming registers
 * and LVS sends traffic to), so a passing check means the traffic's address answers. `host` overrides
 * that address for one check (an IP literal), e.g. a job whose health endpoint listens on loopback.
 */
export interface HealthCheck {
  readonly http?: { readonly port: string; readonly path: string; readonly host?: string };
  readonly tcp?: { readonly port: string; readonly host?: string };
  readonly exec?: { readonly command: readonly string[] };
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
}

export interface RolloutPolicy {
  readonly maxParallel: number;
  readonly minHealthySeconds: number;
  readonly autoRevert: boolean;
  /** A batch not healthy within this long fails the rollout. */
  readonly progressDeadlineSeconds: number;
  /** How long a stopping instance stays out of naming before SIGTERM (the agent reads it). */
  readonly drainSeconds: number;
}

export interface JobSpec {
  readonly version: string;
  readonly artifact: Artifact;
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly ports: Readonly<Record<string, number>>;
  readonly configs: readonly ConfigFile[];
  readonly dependencies: readonly DependencyFile[];
  readonly cron: readonly CronTask[];
  readonly health?: HealthCheck;
  readonly resources?: { readonly memoryMB?: number; readonly cpu?: number };
  /** Absent: one instance on every online host of the job's tree node. */
  readonly replicas?: number;
  readonly rollout: RolloutPolicy;
  /**
   * Never in the repo: the controller adds the version of each secret the templates reference
   * (`{{secret "name"}}`), so the spec hash, and with it the release, changes when one is rotated.
   */
  readonly secretVersions?: Readonly<Record<string, { readonly version: number; readonly revision: string }>>;
}

export interface Job {
  readonly name: string;
  readonly tag: string;
  readonly spec: JobSpec;
  readonly origin: DocumentOrigin;
}

export type LbAlgo = 'rr' | 'wrr' | 'lc' | 'wlc' | 'lblc' | 'lblcr' | 'dh' | 'sh' | 'sed' | 'nq';
export type LbKind = 'DR' | 'NAT' | 'TUN';

export interface VipCheck {
  readonly tcp?: Record<string, never>;
  readonly http?: { readonly path: string; readonly statusCode?: number };
  readonly connectTimeoutSeconds: number;
  readonly delayLoopSeconds: number;
}

export interface Vip {
  readonly address: string;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
  readonly lbAlgo: LbAlgo;
  readonly lbKind: LbKind;
  readonly persistenceSeconds: number;
  readonly check: VipCheck;
  readonly sorryServer?: { readonly address: string; readonly port: number };
}

export interface Service {
  readonly name: string;
  readonly job: string;
  readonly port: string;
  readonly vip?: Vip;
  readonly directors: readonly string[];
  readonly origin: DocumentOrigin;
}

export interface ZoneSoa {
  /** The RNAME as a DNS name; absent: hostmaster.<zone>. */
  readonly hostmaster?: string;
  readonly refreshSeconds: number;
  readonly retrySeconds: number;
  readonly expireSeconds: number;
  readonly negativeTtlSeconds: number;
}

export interface ZoneNameServer {
  /** Fully qualified, without the trailing dot. */
  readonly name: string;
  /** Required (and rendered as glue) for a name server inside the zone. */
  readonly addresses: readonly string[];
}

/** Services the zone names: one by name or several by a glob with one `*`. */
export interface ZonePublish {
  readonly service: string;
  /** Relative to the zone's origin; a `*` takes what the service glob's `*` matched. Absent: the service name. */
  readonly name?: string;
}

/** A DNS zone rendered from naming. `name` is its origin, without the trailing dot. */
export interface Zone {
  readonly name: string;
  readonly ttlSeconds: number;
  readonly soa: ZoneSoa;
  readonly nameServers: readonly ZoneNameServer[];
  readonly publish: readonly ZonePublish[];
  readonly origin: DocumentOrigin;
}

/** The desired state of one commit. Maps are keyed by name (tree nodes by tag, zones by origin). */
export interface Model {
  readonly config: RepoConfig;
  readonly hosts: ReadonlyMap<string, Host>;
  readonly treeNodes: ReadonlyMap<string, TreeNode>;
  readonly jobs: ReadonlyMap<string, Job>;
  readonly services: ReadonlyMap<string, Service>;
  readonly zones: ReadonlyMap<string, Zone>;
}
