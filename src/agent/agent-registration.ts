// The agent's own presence in etcd: a lease, agents/<host> claimed under it (one agent per host),
// the machine facts refreshed on a timer, and everything the agent keeps under the lease put back
// whenever the lease is lost or agents/<host> vanishes under a live lease (an etcd wipe, a hand
// delete). Another agent taking the host over is fatal: two agents must never serve one host.
import type { Logger } from 'pino';
import type { KeyLayout } from '../store/keys.js';
import { isRetryable, retryWithBackoff } from '../store/retry-with-backoff.js';
import { EtcdUnavailableError } from '../store/store-errors.js';
import { anyJson, type EtcdStateStore, type LeaseHandle, type WatchEvent, type WatchHandle } from '../store/state-store.js';
import { claimHost, HostClaimedError } from './host-claim.js';
import { readMachineFacts } from './machine-facts.js';

export interface AgentRegistrationOptions {
  readonly store: EtcdStateStore;
  readonly layout: KeyLayout;
  readonly host: string;
  readonly root: string;
  readonly agentVersion: string;
  readonly startedAt: Date;
  readonly leaseTtlSeconds: number;
  readonly factsIntervalMs: number;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** After each (re)claim under a lease: put back what the agent keeps under it (naming, statuses). */
  readonly onRegistered: (leaseId: string) => Promise<void>;
  readonly onFatal: (error: HostClaimedError) => void;
}

export class AgentRegistration {
  private leaseHandle: LeaseHandle | undefined;
  private watch: WatchHandle | undefined;
  private factsTimer: NodeJS.Timeout | undefined;
  private registering: Promise<void> | undefined;

  constructor(private readonly options: AgentRegistrationOptions) {}

  get lease(): LeaseHandle | undefined {
    return this.leaseHandle;
  }

  /** Registers (retrying until it works or the host is found taken), then keeps the registration. */
  async start(): Promise<void> {
    await this.registerWithRetry();
    if (this.options.signal.aborted) return;
    const key = this.options.layout.agent(this.options.host);
    const { revision } = await this.options.store.getJson(key, anyJson);
    this.watch = this.options.store.watchKey(key, revision, (event) => this.onOwnRecord(event));
    this.factsTimer = setInterval(() => void this.putFacts().catch(() => undefined), this.options.factsIntervalMs);
  }

  async close(): Promise<void> {
    clearInterval(this.factsTimer);
    await this.watch?.close();
    // Released, not revoked: naming entries stay until the TTL, bridging to the next agent.
    this.leaseHandle?.release();
  }

  private registerWithRetry(): Promise<void> {
    this.registering ??= retryWithBackoff(() => this.register(), {
      signal: this.options.signal,
      maxMs: 5000,
      shouldRetry: (error) => !(error instanceof HostClaimedError) && isRetryable(error),
      onRetry: (error, attempt, delayMs) => {
        // etcd being down is said once, by the connection log; each retry is only worth a debug line
        this.options.logger[error instanceof EtcdUnavailableError ? 'debug' : 'warn']({ event: 'agent_register_failed', attempt, retryInMs: delayMs, error: (error as Error).message }, 'cannot register the agent; retrying');
      },
    })
      .catch((error: unknown) => {
        if (error instanceof HostClaimedError) this.options.onFatal(error);
        // The caller stops here: refused, or closing.
        throw error;
      })
      .finally(() => (this.registering = undefined));
    return this.registering;
  }

  private async register(): Promise<void> {
    const lease = await this.options.store.grantLease(this.options.leaseTtlSeconds);
    try {
      await this.claim(lease);
    } catch (error) {
      // The next attempt grants another lease: this one must not stay alive (kept alive, it never expires).
      void lease.revoke().catch(() => undefined);
      throw error;
    }
    this.leaseHandle = lease;
    await this.options.onRegistered(lease.id);
    lease.onLost(() => {
      if (this.options.signal.aborted || this.leaseHandle !== lease) return;
      this.options.logger.warn({ event: 'lease_lost', lease: lease.id }, 'agent lease lost; re-registering');
      void this.registerWithRetry().catch(() => undefined);
    });
  }

  private async claim(lease: LeaseHandle): Promise<void> {
    const { store, layout, host, logger } = this.options;
    await claimHost({
      store,
      key: layout.agent(host),
      host,
      facts: await this.facts(),
      leaseId: lease.id,
      waitMs: (this.options.leaseTtlSeconds + 2) * 1000,
      signal: this.options.signal,
      onWaiting: (holder) => logger.warn({ event: 'agent_claim_waiting', holder }, `host ${host} is held by ${holder}; waiting for its lease to run out`),
    });
  }

  /**
   * agents/<host> changed under us. Events can be stale (a watch on a member that was frozen replays
   * history), so the key is read again and judged as it is now: ours → nothing; gone (a wipe, a hand
   * delete) or left by this process under an older lease → claimed again; another live agent's → fatal.
   */
  private onOwnRecord(event: WatchEvent<unknown>): void {
    const lease = this.leaseHandle;
    if (!lease || lease.lost || this.options.signal.aborted || this.registering) return;
    if (event.type === 'put' && event.lease === lease.id) return;
    if (event.type === 'resync' && [...event.entries.values()].some((entry) => entry.lease === lease.id)) return;
    const key = this.options.layout.agent(this.options.host);
    this.registering = this.options.store
      .getJson(key, anyJson)
      .then(async ({ entry }) => {
        if (entry?.lease === lease.id || lease.lost) return;
        if (!entry) this.options.logger.warn({ event: 'agent_record_vanished' }, 'agents/ record vanished (etcd wiped or edited by hand); registering again');
        await this.claim(lease);
        await this.options.onRegistered(lease.id);
      })
      .catch((error: unknown) => {
        if (error instanceof HostClaimedError) this.options.onFatal(error);
        else this.options.logger.warn({ event: 'agent_register_failed', error: (error as Error).message }, 'cannot register the agent again; retrying on the next change');
      })
      .finally(() => (this.registering = undefined));
  }

  private facts() {
    return readMachineFacts(this.options.host, this.options.root, this.options.agentVersion, this.options.startedAt);
  }

  private async putFacts(): Promise<void> {
    const lease = this.leaseHandle;
    if (!lease || lease.lost) return;
    await this.options.store.applyBatch([{ put: this.options.layout.agent(this.options.host), value: await this.facts(), lease: lease.id }]);
  }
}
