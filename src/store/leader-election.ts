// Leader election on `layout.leader`, in the manner of controller-runtime's lease lock: the leader key
// holds the winner's id under the winner's lease; a standby watches the key and campaigns again when
// it disappears. Leadership is only as good as the guard: every leader write is an etcd transaction
// conditional on the key still holding our id (`guard()`), so a leader that was deposed without
// noticing (paused process, partition) cannot write.
import { EventEmitter } from 'node:events';
import { retryWithBackoff } from './retry-with-backoff.js';
import type { BatchGuard, EtcdStateStore, LeaseHandle, WatchEvent, WatchHandle } from './state-store.js';
import { RetryAbortedError } from './store-errors.js';

export interface LeaderElectionOptions {
  /** Unique per process (e.g. hostname-pid-random): the guard compares ids, not leases. */
  readonly id: string;
  /** Default 15, like controller-runtime's LeaseDuration. etcd3 renews every TTL/3 (5 s). */
  readonly leaseTtlSeconds?: number;
  /** Step down when the lease was not renewed for this long, before etcd expires it for everyone
   * else (controller-runtime's RenewDeadline: 10 s of 15). Default: 2/3 of the TTL. */
  readonly renewDeadlineMs?: number;
  /** Backoff of campaign attempts while etcd is unreachable. */
  readonly retry?: { readonly initialMs?: number; readonly maxMs?: number };
  /** Failures that are retried (etcd unreachable, a watch read failing). Default: ignored. */
  readonly onError?: (error: unknown) => void;
}

export interface LeaderElectionEvents {
  elected: [];
  deposed: [reason: string];
}

type State = 'idle' | 'campaigning' | 'leader' | 'standby' | 'resigned';

const isId = (value: unknown): value is string => typeof value === 'string';

export class LeaderElection extends EventEmitter<LeaderElectionEvents> {
  readonly id: string;
  private readonly key: string;
  private readonly ttlSeconds: number;
  private readonly renewDeadlineMs: number;
  private readonly onError: (error: unknown) => void;
  private state: State = 'idle';
  /** Bumped on every new attempt; callbacks from an older attempt's lease or watch are ignored. */
  private generation = 0;
  private lease: LeaseHandle | undefined;
  private watch: WatchHandle | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly store: EtcdStateStore,
    private readonly options: LeaderElectionOptions,
  ) {
    super();
    this.id = options.id;
    this.key = store.layout.leader;
    this.ttlSeconds = options.leaseTtlSeconds ?? 15;
    this.renewDeadlineMs = options.renewDeadlineMs ?? Math.round((this.ttlSeconds * 1000 * 2) / 3);
    this.onError = options.onError ?? (() => {});
  }

  get isLeader(): boolean {
    return this.state === 'leader';
  }

  /** For applyBatch: the batch is written only while we hold the leader key. */
  guard(): BatchGuard {
    return { key: this.key, value: this.id };
  }

  /** Starts campaigning; resolves once this candidate is leader or standby (retrying while etcd is down). */
  async campaign(): Promise<void> {
    if (this.state !== 'idle') return;
    await this.runAttempt().catch((error: unknown) => {
      if (!(error instanceof RetryAbortedError && this.state === 'resigned')) throw error;
    });
  }

  /** Steps down for good: deletes the leader key if we hold it and revokes our lease. */
  async resign(): Promise<void> {
    if (this.state === 'resigned') return;
    const wasLeader = this.state === 'leader';
    this.state = 'resigned';
    this.generation++;
    this.abort.abort();
    const { lease, watch } = this;
    this.lease = undefined;
    this.watch = undefined;
    await watch?.close();
    let failure: unknown;
    if (wasLeader) {
      // guarded: if someone else holds the key by now, it is theirs to keep
      await this.store.applyBatch([{ delete: this.key }], this.guard()).catch((error: unknown) => {
        if ((error as { code?: string }).code !== 'E_GUARD_FAILED') failure = error;
      });
      this.notify('deposed', 'resigned');
    }
    if (lease && !lease.lost) {
      await lease.revoke().catch((error: unknown) => {
        failure ??= error;
        lease.release(); // etcd unreachable: at least stop renewing, the key expires with the TTL
      });
    }
    if (failure) throw failure;
  }

  private async runAttempt(): Promise<void> {
    const generation = ++this.generation;
    this.state = 'campaigning';
    this.dropHold();
    await retryWithBackoff(() => this.attempt(generation), { ...this.options.retry, signal: this.abort.signal, onRetry: this.onError });
  }

  /** One campaign: grant a lease, create the key under it if absent; else watch until it is gone. */
  private async attempt(generation: number): Promise<void> {
    const lease = await this.store.grantLease(this.ttlSeconds, { lostAfterMs: this.renewDeadlineMs });
    let outcome: Awaited<ReturnType<EtcdStateStore['putIfAbsent']>>;
    try {
      if (generation !== this.generation) throw new RetryAbortedError();
      outcome = await this.store.putIfAbsent(this.key, this.id, lease.id);
      if (generation !== this.generation) throw new RetryAbortedError();
    } catch (error) {
      lease.revoke().catch(() => {});
      if (error instanceof RetryAbortedError) return;
      throw error;
    }
    const watchOptions = { check: isId, onError: this.onError };
    if (outcome.created) {
      this.lease = lease;
      this.state = 'leader';
      this.notify('elected');
      if (generation !== this.generation) return; // a listener resigned
      lease.onLost((error) => this.depose(generation, error.message));
      this.watch = this.store.watchKey(this.key, outcome.revision, (event) => this.onLeaderKeyChange(generation, event), watchOptions);
    } else {
      lease.revoke().catch(() => {});
      this.state = 'standby';
      this.watch = this.store.watchKey(
        this.key,
        outcome.revision,
        (event) => {
          const vacant = event.type === 'delete' || (event.type === 'resync' && !event.entries.has(this.key));
          if (vacant && generation === this.generation) this.rerun();
        },
        watchOptions,
      );
    }
  }

  private onLeaderKeyChange(generation: number, event: WatchEvent<string>): void {
    if (event.type === 'delete') this.depose(generation, 'leader key deleted');
    else if (event.type === 'put' && event.value !== this.id) this.depose(generation, `leader key taken by ${event.value}`);
    else if (event.type === 'skipped') this.depose(generation, `leader key overwritten: ${event.problem}`);
    else if (event.type === 'resync' && event.entries.get(this.key)?.value !== this.id) this.depose(generation, 'leader key lost during a resync');
  }

  private depose(generation: number, reason: string): void {
    if (generation !== this.generation || this.state !== 'leader') return;
    this.state = 'standby';
    this.notify('deposed', reason);
    this.rerun();
  }

  private rerun(): void {
    this.runAttempt().catch((error: unknown) => {
      if (!(error instanceof RetryAbortedError)) this.onError(error);
    });
  }

  /** A throwing listener must not break the election (it runs inside lease and watch callbacks). */
  private notify<E extends keyof LeaderElectionEvents>(event: E, ...args: LeaderElectionEvents[E]): void {
    try {
      (this.emit as (event: E, ...args: LeaderElectionEvents[E]) => boolean)(event, ...args);
    } catch (error) {
      this.onError(error);
    }
  }

  /** Lets go of the previous attempt's watch and lease without waiting on etcd. */
  private dropHold(): void {
    const { lease, watch } = this;
    this.lease = undefined;
    this.watch = undefined;
    watch?.close().catch(() => {});
    if (lease && !lease.lost) lease.revoke().catch(() => lease.release());
  }
}
