// The agent's own presence in etcd: a lease, agents/<host> claimed under it (one agent per host),
// the machine facts refreshed on a timer, and everything the agent keeps under the lease put back
// whenever the lease is lost or agents/<host> vanishes under a live lease (an etcd wipe, a hand
// delete). Another agent taking the host over is fatal: two agents must never serve one host.
import type { Logger } from 'pino';
import type { KeyLayout } from '../store/keys.js';
import { isRetryable, retryWithBackoff } from '../store/retry-with-backoff.js';
import { EtcdAuthError, EtcdUnavailableError } from '../store/store-errors.js';
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
  /** Published in agents/<host> (AgentRecord.metricsAddress) so a Prometheus target file can list it. */
  readonly metricsAddress?: string;
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
  /** The pass in progress, and whether another was asked for meanwhile. */
  private ensuring: Promise<void> | undefined;
  private again = false;
  /** The lease everything the agent keeps under it was last put back under (onRegistered succeeded). */
  private registeredLease: string | undefined;

  constructor(private readonly options: AgentRegistrationOptions) {}

  get lease(): LeaseHandle | undefined {
    return this.leaseHandle;
  }

  /** Registers (retrying until it works or the host is found taken), then keeps the registration. */
  async start(): Promise<void> {
    await this.ensure();
    if (this.options.signal.aborted) return;
    const key = this.options.layout.agent(this.options.host);
    const { revision } = await retryWithBackoff(() => this.options.store.getJson(key, anyJson), { signal: this.options.signal, maxMs: 5000 });
    this.watch = this.options.store.watchKey(key, revision, (event) => this.onOwnRecord(event));
    this.factsTimer = setInterval(() => void this.putFacts().catch(() => undefined), this.options.factsIntervalMs);
  }

  async close(): Promise<void> {
    clearInterval(this.factsTimer);
    await this.watch?.close();
    // Released, not revoked: naming entries stay until the TTL, bridging to the next agent.
    this.leaseHandle?.release();
  }

  /**
   * Level-triggered: each pass makes sure there is a live lease, agents/<host> is ours under it, and
   * what the agent keeps under it was put back since the last reason to doubt it. One pass at a time;
   * a request during a pass runs one more. Retried with backoff until it works, the agent closes, or
   * another agent is found holding the host (fatal).
   */
  private ensure(): Promise<void> {
    if (this.ensuring) {
      this.again = true;
      return this.ensuring;
    }
    this.ensuring = (async () => {
      do {
        this.again = false;
        await retryWithBackoff(() => this.ensureOnce(), {
          signal: this.options.signal,
          maxMs: 5000,
          shouldRetry: (error) => !(error instanceof HostClaimedError) && isRetryable(error),
          onRetry: (error, attempt, delayMs) => {
            // etcd being down is said once, by the connection log; each retry is only worth a debug line
            this.options.logger[error instanceof EtcdUnavailableError ? 'debug' : 'warn']({ event: 'agent_register_failed', attempt, retryInMs: delayMs, error: (error as Error).message }, 'cannot register the agent; retrying');
          },
        });
      } while (this.again && !this.options.signal.aborted);
    })()
      .catch((error: unknown) => {
        if (error instanceof HostClaimedError) this.options.onFatal(error);
        // A credential revoked (ygg etcd-setup) or short of a permission: no retry helps, so say it loudly.
        if (error instanceof EtcdAuthError) this.options.logger.error({ event: 'agent_register_refused', code: error.code, error: error.message }, 'etcd refuses this agent; it runs its jobs as they are until given a valid credential');
        // The caller stops here: refused, or closing.
        throw error;
      })
      .finally(() => (this.ensuring = undefined));
    return this.ensuring;
  }

  private async ensureOnce(): Promise<void> {
    let lease = this.leaseHandle;
    if (!lease || lease.lost) {
      lease = await this.options.store.grantLease(this.options.leaseTtlSeconds);
      try {
        await this.claim(lease);
      } catch (error) {
        // The next attempt grants another lease: this one must not stay alive (kept alive, it never expires).
        void lease.revoke().catch(() => undefined);
        throw error;
      }
      this.adopt(lease);
    } else {
      const { entry } = await this.options.store.getJson(this.options.layout.agent(this.options.host), anyJson);
      if (entry?.lease === lease.id && this.registeredLease === lease.id) return;
      if (!entry) this.options.logger.warn({ event: 'agent_record_vanished' }, 'agents/ record vanished (etcd wiped or edited by hand); registering again');
      await this.claim(lease);
    }
    await this.options.onRegistered(lease.id);
    this.registeredLease = lease.id;
  }

  /** The lease in force from now on; its loss starts a new pass. */
  private adopt(lease: LeaseHandle): void {
    this.leaseHandle = lease;
    this.registeredLease = undefined;
    lease.onLost(() => {
      if (this.options.signal.aborted || this.leaseHandle !== lease) return;
      this.options.logger.warn({ event: 'lease_lost', lease: lease.id }, 'agent lease lost; re-registering');
      void this.ensure().catch(() => undefined);
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
   * history), so a pass reads the key again and judges it as it is now: ours → nothing; gone (a wipe,
   * a hand delete) or left by this process under an older lease → claimed again, and what the agent
   * keeps under its lease put back (a wipe took that too); another live agent's → fatal.
   */
  private onOwnRecord(event: WatchEvent<unknown>): void {
    const lease = this.leaseHandle;
    if (!lease || this.options.signal.aborted) return;
    if (event.type === 'put' && event.lease === lease.id) return;
    if (event.type === 'resync' && [...event.entries.values()].some((entry) => entry.lease === lease.id)) return;
    this.registeredLease = undefined;
    void this.ensure().catch(() => undefined);
  }

  private async facts() {
    const facts = await readMachineFacts(this.options.host, this.options.root, this.options.agentVersion, this.options.startedAt);
    const { metricsAddress } = this.options;
    return metricsAddress === undefined ? facts : { ...facts, metricsAddress };
  }

  /** Fresh facts under the lease; while the registration is in doubt, a pass instead (it writes them). */
  private async putFacts(): Promise<void> {
    const lease = this.leaseHandle;
    if (!lease || lease.lost || this.ensuring || this.registeredLease !== lease.id) {
      await this.ensure();
      return;
    }
    await this.options.store.applyBatch([{ put: this.options.layout.agent(this.options.host), value: await this.facts(), lease: lease.id }]);
  }
}
