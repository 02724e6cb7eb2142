// The agent's side of naming: naming/<service>/<host>:<port> exists while, and only while, an
// instance is healthy, attached to the agent's lease so a dead agent's endpoints vanish by themselves.
//
// It keeps what *should* be registered in memory and writes the difference, so after etcd forgot
// the keys (lease expired while etcd was away, lease revoked) `reassert()` with the new lease puts
// them all back without the instances having to change state again.
import type { KeyLayout } from '../store/keys.js';
import type { NamingRecord } from '../store/records.js';
import type { BatchOp, BatchResult } from '../store/state-store.js';

/** The slice of EtcdStateStore this needs: tests and the agent pass the real store. */
export interface NamingStore {
  readonly layout: KeyLayout;
  applyBatch(ops: readonly BatchOp[]): Promise<BatchResult>;
}

export interface NamingEndpoint {
  /** The Service's name (the naming key's first segment). */
  readonly service: string;
  /** The port number the instance listens on (the Service's port name, resolved by the caller). */
  readonly port: number;
}

/** The instance an endpoint belongs to, as written into the record. */
export interface NamingInstance {
  readonly job: string;
  readonly specHash: string;
  /** The job's service-tree tag, so readers of naming (the Prometheus target file) can label by tree node. */
  readonly tag?: string;
  /** LVS weight of this endpoint. Default: the registration's weight (1). */
  readonly weight?: number;
}

export interface NamingRegistrationOptions {
  readonly store: NamingStore;
  readonly host: string;
  /** The host's address as the fleet knows it (the Host document's ip), written into each record. */
  readonly ip: string;
  /** The agent's lease, as LeaseHandle.id gives it. */
  readonly leaseId: string;
  readonly weight?: number;
}

interface JobRegistration {
  readonly instance: NamingInstance;
  readonly endpoints: readonly NamingEndpoint[];
  readonly healthy: boolean;
}

export class NamingRegistration {
  private leaseIdValue: string;
  private readonly jobs = new Map<string, JobRegistration>();
  /**
   * Per job, the keys etcd may hold and the value last confirmed there (undefined: a write was
   * attempted and its outcome is unknown). A changed service list deletes what it no longer names,
   * and a failed write is neither trusted nor forgotten.
   */
  private readonly written = new Map<string, Map<string, string | undefined>>();
  /** Writes go one at a time, in call order: a put overtaken by a later delete would resurrect a drained endpoint. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: NamingRegistrationOptions) {
    this.leaseIdValue = options.leaseId;
  }

  get leaseId(): string {
    return this.leaseIdValue;
  }

  /**
   * Registers the job's endpoints (healthy) or removes them (unhealthy), and resolves once etcd has
   * the change. The wish is remembered before the write, so a write that fails (etcd away) is
   * repaired by the next `reassert()`; the error is still thrown for the caller to log.
   */
  setHealthy(instance: NamingInstance, endpoints: readonly NamingEndpoint[], healthy: boolean): Promise<void> {
    this.jobs.set(instance.job, { instance, endpoints: [...endpoints], healthy });
    return this.enqueue(() => this.write([instance.job], false));
  }

  /**
   * Forgets the job and deletes its endpoints; resolves once they are gone from etcd, so a drain can
   * start counting only after clients can no longer find the instance.
   */
  deregister(job: string): Promise<void> {
    this.jobs.delete(job);
    return this.enqueue(() => this.write([job], false));
  }

  /**
   * Puts every endpoint that should exist again, under `leaseId` when given (a new lease after the
   * old one was lost), and deletes stale ones. Call after etcd comes back or the lease was renewed.
   */
  reassert(leaseId?: string): Promise<void> {
    if (leaseId !== undefined) this.leaseIdValue = leaseId;
    return this.enqueue(() => this.write([...new Set([...this.jobs.keys(), ...this.written.keys()])], true));
  }

  /** What should be registered now: key → record, sorted by key. */
  expected(): Map<string, NamingRecord> {
    const entries: [string, NamingRecord][] = [];
    for (const job of this.jobs.keys()) entries.push(...this.desired(job));
    return new Map(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  private enqueue(write: () => Promise<void>): Promise<void> {
    const run = this.queue.then(write);
    this.queue = run.catch(() => {});
    return run;
  }

  private async write(jobs: readonly string[], all: boolean): Promise<void> {
    const plans = jobs.map((job) => {
      const records = new Map(this.desired(job));
      return { job, records, desired: new Map([...records].map(([key, record]) => [key, JSON.stringify(record)] as const)) };
    });
    const ops: BatchOp[] = [];
    for (const { job, desired, records } of plans) {
      const previous = this.written.get(job) ?? new Map<string, string | undefined>();
      // Rewriting an unchanged key on every health check would churn the revisions that every
      // watcher (renderers, resolvers) wakes up for: only changed or uncertain keys are put.
      for (const [key, value] of desired) if (all || previous.get(key) !== value) ops.push({ put: key, value: records.get(key), lease: this.leaseIdValue });
      for (const key of previous.keys()) if (!desired.has(key)) ops.push({ delete: key });
      // until etcd confirms, every key touched may or may not be there
      const uncertain = new Map(previous);
      for (const key of desired.keys()) if (uncertain.get(key) !== desired.get(key)) uncertain.set(key, undefined);
      if (uncertain.size > 0) this.written.set(job, uncertain);
    }
    if (ops.length > 0) await this.options.store.applyBatch(ops);
    for (const { job, desired } of plans) {
      if (desired.size > 0) this.written.set(job, desired);
      else this.written.delete(job);
    }
  }

  private desired(job: string): [string, NamingRecord][] {
    const registration = this.jobs.get(job);
    if (!registration?.healthy) return [];
    const { instance } = registration;
    const { host, ip, store } = this.options;
    return registration.endpoints.map((endpoint) => [
      store.layout.naming(endpoint.service, host, endpoint.port),
      { ip, port: endpoint.port, weight: instance.weight ?? this.options.weight ?? 1, host, job, specHash: instance.specHash, ...(instance.tag !== undefined ? { tag: instance.tag } : {}) },
    ]);
  }
}
