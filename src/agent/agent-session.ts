// The agent's session with etcd: the client (retried for ever), the transaction batcher its status
// and naming writes share, its registration under a lease, the watches of its assignments and of
// its own statuses, and naming once an address is known. HostAgent decides what runs; this keeps it
// connected. Fail static: nothing here stops or starts a job.
import type { Etcd3 } from 'etcd3';
import { createConnectionLog } from '../store/connection-log.js';
import { connectEtcd, type EtcdConnectionOptions } from '../store/etcd-connection.js';
import { isAssignmentEntry } from '../store/record-checks.js';
import type { AssignmentEntry } from '../store/records.js';
import { retryWithBackoff } from '../store/retry-with-backoff.js';
import { EtcdStateStore, type WatchHandle } from '../store/state-store.js';
import { AgentRegistration, type AgentRegistrationOptions } from './agent-registration.js';
import type { AssignmentEvents } from './assignment-events.js';
import type { HostClaimedError } from './host-claim.js';
import { HostWriteBatcher } from './host-write-batcher.js';
import { watchMembership } from './host-membership.js';
import { NamingRegistration } from './naming-registration.js';
import { watchOwnStatuses } from './own-status-watch.js';
import type { StatusWriter } from './status-writer.js';

/** What the session passes on to AgentRegistration, plus its own. */
type RegistrationSettings = Pick<AgentRegistrationOptions, 'host' | 'root' | 'layout' | 'agentVersion' | 'startedAt' | 'metricsAddress' | 'leaseTtlSeconds' | 'factsIntervalMs' | 'logger' | 'signal'>;

export interface AgentSessionOptions extends RegistrationSettings {
  readonly etcd: EtcdConnectionOptions;
  readonly statusWriter: StatusWriter;
  readonly events: AssignmentEvents;
  /** The jobs with an instance on this host. */
  readonly running: () => Iterable<string>;
  /** The address the fleet knows this host by, from an assignment; undefined before any. */
  readonly hostIp: () => string | undefined;
  /** A running job's status key was changed by someone else: write it again. */
  readonly rewriteStatus: (job: string) => void;
  /** Registered under a new lease (naming already put back): report every instance again. */
  readonly onRegistered: () => Promise<void>;
  readonly onFatal: (error: HostClaimedError) => void;
}

export class AgentSession {
  private client: Etcd3 | undefined;
  /** Status and naming writes, sharing transactions. */
  private writes: HostWriteBatcher | undefined;
  private registration: AgentRegistration | undefined;
  private naming: NamingRegistration | undefined;
  private watch: WatchHandle | undefined;
  private statusWatch: WatchHandle | undefined;

  constructor(private readonly options: AgentSessionOptions) {}

  /** The etcd client once connected (secrets are read with it). */
  get etcd(): Etcd3 | undefined {
    return this.client;
  }

  /** Where status writes go; undefined until connected. */
  get batcher(): HostWriteBatcher | undefined {
    return this.writes;
  }

  /** Naming of this host's endpoints; undefined until registered and an address is known. */
  get namingRegistration(): NamingRegistration | undefined {
    return this.naming;
  }

  /** Connects (retrying until the signal aborts), registers and starts watching. */
  async connect(): Promise<void> {
    const { logger, host, layout, signal, statusWriter } = this.options;
    this.client = await retryWithBackoff(() => connectEtcd(this.options.etcd), {
      signal,
      maxMs: 5000,
      onRetry: (error, attempt, delayMs) => logger.warn({ event: 'etcd_unavailable', attempt, retryInMs: delayMs, error: (error as Error).message }, 'etcd unreachable; jobs keep running'),
    });
    const store = new EtcdStateStore(this.client, layout);
    this.writes = new HostWriteBatcher(store);
    this.writes.addRider((busy) => statusWriter.takeAlong(busy));
    const prefix = layout.assignments(host);
    // Assignments first: they carry the address the fleet knows this host by, for naming.
    const read = await retryWithBackoff(() => store.getPrefixJson(prefix, isAssignmentEntry), { signal, maxMs: 5000 });
    this.registration = new AgentRegistration({
      store,
      layout,
      host,
      root: this.options.root,
      agentVersion: this.options.agentVersion,
      startedAt: this.options.startedAt,
      ...(this.options.metricsAddress !== undefined ? { metricsAddress: this.options.metricsAddress } : {}),
      leaseTtlSeconds: this.options.leaseTtlSeconds,
      factsIntervalMs: this.options.factsIntervalMs,
      logger,
      signal,
      onRegistered: (leaseId) => this.onRegistered(leaseId),
      onFatal: (error) => this.options.onFatal(error),
    });
    await this.registration.start();
    if (signal.aborted) return;
    this.options.events.replace(read, 'first');
    const connectionLog = createConnectionLog(logger, { consequence: 'jobs keep running' });
    signal.addEventListener('abort', () => connectionLog.close(), { once: true });
    this.watch = store.watchPrefix<AssignmentEntry>(prefix, read.revision, (event) => this.options.events.onEvent(event), {
      check: isAssignmentEntry,
      onConnectionChange: (connected) => {
        connectionLog.report(connected);
        if (connected) statusWriter.flushSoon();
      },
    });
    this.statusWatch = watchOwnStatuses({ store, layout, host, fromRevision: read.revision, running: this.options.running, rewrite: this.options.rewriteStatus });
    const stopMembership = watchMembership({ store, layout, host, logger });
    signal.addEventListener('abort', stopMembership, { once: true });
    statusWriter.flushSoon();
    logger.info({ event: 'agent_registered', lease: this.registration.lease?.id }, 'agent registered');
  }

  /**
   * Naming records carry the address the fleet knows this host by (the Host document's ip, which
   * every assignment repeats), so registration starts with the first assignment seen.
   */
  ensureNaming(ip: string | undefined): void {
    const lease = this.registration?.lease;
    if (this.naming || !ip || !this.writes || !lease) return;
    this.naming = new NamingRegistration({ store: this.writes, host: this.options.host, ip, leaseId: lease.id });
  }

  /** First of two steps on the way out: no more events (jobs may still settle their work). */
  async stopWatching(): Promise<void> {
    await this.watch?.close();
    await this.statusWatch?.close();
  }

  /** Last: once the statuses are flushed, the lease and the client go. */
  async close(): Promise<void> {
    await this.registration?.close();
    this.client?.close();
  }

  /** Under a new lease, or after agents/<host> vanished: put back the naming entries, then every status. */
  private async onRegistered(leaseId: string): Promise<void> {
    if (this.naming) await this.naming.reassert(leaseId);
    else this.ensureNaming(this.options.hostIp());
    await this.options.onRegistered();
  }
}
