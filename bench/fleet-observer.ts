// The fleet simulator's eyes: one watch on the whole prefix, keeping what each instance is assigned,
// runs and has in naming, the revision each director's config was last rendered from, and a count
// of every etcd write by kind. A Convergence follows one change (a commit, hosts lost) instance by
// instance and records when its instances run healthy, when naming holds only what they should, and
// when the director config was rendered from a revision at or after that.
import type { KeyLayout } from '../src/store/keys.js';
import type { EtcdStateStore, WatchEvent, WatchHandle } from '../src/store/state-store.js';
import { anyJson } from './compiled.js';

export type InstanceKey = string; // `${host}/${job}`

export interface ConvergenceTimes {
  /** ms from the start to every instance healthy on its new spec (or gone, for lost hosts). */
  readonly healthyMs: number;
  /** ms to naming holding exactly the expected entries. */
  readonly namingMs: number;
  /** ms to the director's config rendered from a revision at or after naming settled. */
  readonly configMs: number;
}

export interface ConvergenceRule {
  readonly instances: readonly InstanceKey[];
  readonly healthy: (key: InstanceKey) => boolean;
  readonly named: (key: InstanceKey) => boolean;
}

export class Convergence {
  private readonly startedAt = performance.now();
  private readonly pendingHealthy: Set<InstanceKey>;
  private readonly pendingNamed: Set<InstanceKey>;
  private healthyMs: number | undefined;
  private namingMs: number | undefined;
  private namingRevision: bigint | undefined;
  private resolve!: (times: ConvergenceTimes) => void;
  readonly done: Promise<ConvergenceTimes>;

  constructor(
    private readonly rule: ConvergenceRule,
    private readonly renderRevision: () => bigint,
  ) {
    this.pendingHealthy = new Set(rule.instances.filter((key) => !rule.healthy(key)));
    this.pendingNamed = new Set(rule.instances.filter((key) => !rule.named(key)));
    this.done = new Promise((resolve) => (this.resolve = resolve));
  }

  touch(key: InstanceKey, revision: bigint): void {
    // Monotone on purpose: a rollout's instance, once on its new spec, stays there; a lost host's
    // entry, once gone, stays gone.
    if (this.pendingHealthy.has(key) && this.rule.healthy(key)) this.pendingHealthy.delete(key);
    if (this.pendingNamed.has(key) && this.rule.named(key)) this.pendingNamed.delete(key);
    this.settle(revision);
  }

  rendered(): void {
    this.settle(undefined);
  }

  private settle(revision: bigint | undefined): void {
    const now = performance.now() - this.startedAt;
    if (this.healthyMs === undefined && this.pendingHealthy.size === 0) this.healthyMs = now;
    if (this.namingMs === undefined && this.pendingNamed.size === 0) {
      this.namingMs = now;
      this.namingRevision = revision ?? 0n;
    }
    if (this.healthyMs !== undefined && this.namingRevision !== undefined && this.renderRevision() >= this.namingRevision) {
      this.resolve({ healthyMs: this.healthyMs, namingMs: this.namingMs!, configMs: now });
    }
  }

  /** For a time-out message: how much is still missing. */
  describe(): string {
    return `${this.pendingHealthy.size} not healthy, ${this.pendingNamed.size} not in naming as expected, naming revision ${this.namingRevision ?? '-'}, render revision ${this.renderRevision()}`;
  }
}

export class FleetObserver {
  readonly assigned = new Map<InstanceKey, string>();
  readonly running = new Map<InstanceKey, { readonly specHash: string; readonly state: string }>();
  /** The spec hash each instance's naming entry names (one Service per job in the simulated fleet). */
  readonly named = new Map<InstanceKey, string>();
  readonly writes = new Map<string, number>();
  private readonly renderRevisions = new Map<string, bigint>();
  private readonly convergences = new Set<Convergence>();
  private watch: WatchHandle | undefined;

  constructor(
    private readonly store: EtcdStateStore,
    private readonly layout: KeyLayout,
  ) {}

  async start(): Promise<void> {
    const read = await this.store.getPrefixJson(this.layout.prefix, anyJson);
    for (const [key, entry] of read.entries) this.apply(key, entry.value, BigInt(read.revision));
    this.watch = this.store.watchPrefix(this.layout.prefix, read.revision, (event) => this.onEvent(event), { check: anyJson });
  }

  async close(): Promise<void> {
    await this.watch?.close();
  }

  renderRevision(director: string): bigint {
    return this.renderRevisions.get(director) ?? 0n;
  }

  /** Follows `rule` from now until the director's config caught up; rejects after timeoutMs. */
  follow(rule: ConvergenceRule, director: string, timeoutMs: number): Promise<ConvergenceTimes> {
    const convergence = new Convergence(rule, () => this.renderRevision(director));
    this.convergences.add(convergence);
    convergence.rendered();
    let timer: NodeJS.Timeout | undefined;
    // On stderr, for a run that seems stuck: what is still missing.
    const progress = setInterval(() => console.error(`[fleet-observer] waiting: ${convergence.describe()}`), 10_000);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not converged after ${timeoutMs} ms: ${convergence.describe()}`)), timeoutMs);
    });
    return Promise.race([convergence.done, timeout]).finally(() => {
      clearTimeout(timer);
      clearInterval(progress);
      this.convergences.delete(convergence);
    });
  }

  /**
   * Instances on a spec other than the one assigned now (any spec, for the first deploy: the
   * controller may have written it already), healthy, and in naming under that spec.
   */
  rolloutRule(instances: readonly InstanceKey[], first = false): ConvergenceRule {
    const old = new Map(first ? [] : instances.map((key) => [key, this.assigned.get(key)]));
    const fresh = (key: InstanceKey) => {
      const wanted = this.assigned.get(key);
      return wanted !== undefined && wanted !== old.get(key) ? wanted : undefined;
    };
    return {
      instances,
      healthy: (key) => {
        const running = this.running.get(key);
        return fresh(key) !== undefined && running?.state === 'Healthy' && running.specHash === fresh(key);
      },
      named: (key) => fresh(key) !== undefined && this.named.get(key) === fresh(key),
    };
  }

  /** Instances of lost hosts: gone from naming. */
  lostRule(instances: readonly InstanceKey[]): ConvergenceRule {
    return { instances, healthy: () => true, named: (key) => !this.named.has(key) };
  }

  /** Total writes so far (puts and deletes seen by the watch). */
  totalWrites(): number {
    let total = 0;
    for (const count of this.writes.values()) total += count;
    return total;
  }

  private onEvent(event: WatchEvent<unknown>): void {
    if (event.type === 'resync') {
      for (const [key, entry] of event.entries) this.apply(key, entry.value, BigInt(event.revision));
      return;
    }
    const kind = event.key.slice(this.layout.prefix.length).split('/')[0]!;
    this.writes.set(kind, (this.writes.get(kind) ?? 0) + 1);
    this.apply(event.key, event.type === 'put' ? event.value : undefined, BigInt(event.modRevision));
  }

  private apply(fullKey: string, value: unknown, revision: bigint): void {
    const [kind, first, second] = fullKey.slice(this.layout.prefix.length).split('/') as [string, string?, string?];
    const record = value as Record<string, unknown> | undefined;
    let instance: InstanceKey | undefined;
    if (kind === 'assign' && first && second) {
      instance = `${first}/${second}`;
      setOrDelete(this.assigned, instance, typeof record?.['specHash'] === 'string' ? record['specHash'] : undefined);
    } else if (kind === 'status' && first && second === '_render') {
      const rendered = record?.['lastRenderRevision'];
      if (typeof rendered === 'string') this.renderRevisions.set(first, BigInt(rendered));
      for (const convergence of this.convergences) convergence.rendered();
      return;
    } else if (kind === 'status' && first && second) {
      instance = `${first}/${second}`;
      setOrDelete(this.running, instance, record ? { specHash: String(record['specHash']), state: String(record['state']) } : undefined);
    } else if (kind === 'naming' && second) {
      // naming/<service>/<host>:<port> → the record names host and job
      const host = second.slice(0, second.lastIndexOf(':'));
      const job = typeof record?.['job'] === 'string' ? record['job'] : this.jobOfNaming(fullKey);
      if (job === undefined) return;
      instance = `${host}/${job}`;
      if (record) this.namingJobs.set(fullKey, job);
      else this.namingJobs.delete(fullKey);
      setOrDelete(this.named, instance, typeof record?.['specHash'] === 'string' ? record['specHash'] : undefined);
    }
    if (instance === undefined) return;
    for (const convergence of this.convergences) convergence.touch(instance, revision);
  }

  /** A delete carries no value: which job the vanished naming key belonged to. */
  private readonly namingJobs = new Map<string, string>();
  private jobOfNaming(fullKey: string): string | undefined {
    return this.namingJobs.get(fullKey);
  }
}

function setOrDelete<K, V>(map: Map<K, V>, key: K, value: V | undefined): void {
  if (value === undefined) map.delete(key);
  else map.set(key, value);
}
