// One etcd transaction for what this host's writers have to say at the same moment. An instance
// turning Healthy used to cost two: its naming entry (NamingRegistration) and its status
// (StatusWriter), each an RPC and a revision that every watcher of the fleet (controller, renderers,
// the agent's own status watch) wakes up for. On a loaded host the etcd client was ~40 % of the
// agent's CPU.
//
// Writers hand their ops to `applyBatch`, which settles with the transaction that carried them. Ops
// handed over in one turn of the event loop go together. An op on a key that a transaction in flight
// writes waits for it, and so does every later op on that key: per key, etcd sees writes in the order
// they were handed over (a naming put is never overtaken by its later delete). Ops on other keys go at
// once, in a transaction of their own, so one slow write does not hold the host's others. A failed
// transaction rejects every writer in it, and each keeps its own fail-static retry (naming's
// reassert, the status writer's backoff).
//
// Riders are writers whose ops may wait a little (a status held by its debounce window): each
// transaction asks them for what they would send soon anyway, and carries it at no extra RPC.
import type { KeyLayout } from '../store/keys.js';
import type { BatchOp, BatchResult } from '../store/state-store.js';

/** The slice of EtcdStateStore this needs. */
export interface BatchStore {
  readonly layout: KeyLayout;
  applyBatch(ops: readonly BatchOp[]): Promise<BatchResult>;
}

/** Ops a rider hands to a transaction, and how it learns the outcome. */
export interface Ride {
  readonly ops: readonly BatchOp[];
  written(): void;
  failed(error: unknown): void;
}

/** A rider's answer to "anything to go along?"; `busy` keys must not be in it (ops on them wait). */
export type Rider = (busy: (key: string) => boolean) => Ride | undefined;

interface Waiting {
  readonly ops: readonly BatchOp[];
  resolve(result: BatchResult): void;
  reject(error: unknown): void;
}

export class HostWriteBatcher implements BatchStore {
  private waiting: Waiting[] = [];
  private readonly riders: Rider[] = [];
  private armed = false;
  /** The keys the transactions in flight write. */
  private readonly inFlight = new Set<string>();

  constructor(private readonly store: BatchStore) {}

  get layout(): KeyLayout {
    return this.store.layout;
  }

  /** Writes `ops` in a transaction soon; resolves once etcd has them, rejects if it failed. */
  applyBatch(ops: readonly BatchOp[]): Promise<BatchResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ ops, resolve, reject });
      this.arm();
    });
  }

  /** `take` is asked at each transaction for ops that may go along. */
  addRider(take: Rider): void {
    this.riders.push(take);
  }

  private arm(): void {
    if (this.armed) return;
    this.armed = true;
    // setImmediate, not a microtask: the writers of one event (a health transition sets naming and
    // status one after the other, naming's write starting a microtask later) are all in by then.
    setImmediate(() => {
      this.armed = false;
      void this.send();
    });
  }

  private async send(): Promise<void> {
    const busy = new Set(this.inFlight);
    const batch: Waiting[] = [];
    const held: Waiting[] = [];
    for (const entry of this.waiting) {
      const keys = entry.ops.map(keyOf);
      if (keys.some((key) => busy.has(key))) {
        held.push(entry);
        for (const key of keys) busy.add(key);
      } else batch.push(entry);
    }
    this.waiting = held;
    if (batch.length === 0) return;
    // Riders come last: where a rider and a writer name one key, the rider's op is the newer.
    const rides = this.riders.map((take) => take((key) => busy.has(key))).filter((ride) => ride !== undefined);
    const ops = [...batch.flatMap((entry) => entry.ops), ...rides.flatMap((ride) => ride.ops)];
    const keys = ops.map(keyOf);
    for (const key of keys) this.inFlight.add(key);
    let outcome: { readonly result: BatchResult } | { readonly error: unknown };
    try {
      outcome = { result: await this.store.applyBatch(ops) };
    } catch (error) {
      outcome = { error };
    }
    for (const key of keys) this.inFlight.delete(key);
    if (this.waiting.length > 0) this.arm();
    if ('result' in outcome) {
      for (const entry of batch) entry.resolve(outcome.result);
      for (const ride of rides) ride.written();
    } else {
      for (const entry of batch) entry.reject(outcome.error);
      for (const ride of rides) ride.failed(outcome.error);
    }
  }
}

function keyOf(op: BatchOp): string {
  return 'put' in op ? op.put : op.delete;
}
