// A watch that never misses or replays stale updates: it resumes from the last revision it delivered
// after a disconnect; when that revision has been compacted away, or etcd was reset (wiped and
// recreated, or restored from an older snapshot), it reads the whole range again and hands the
// handler a `resync` to rebuild from.
//
// How etcd3 1.1.2 behaves, and why this module looks the way it does:
// * Its watch manager reconnects by itself, and badly: a failed stream calls its error handler twice
//   ('error', then 'end'), each call emits 'disconnected' to every watcher and arms a reconnect timer,
//   and since an attempt against a dead etcd fails at once, both timers find the manager idle and
//   each starts its own attempt. The number of reconnect loops doubles every round: with etcd down,
//   hundreds of attempts (and 'disconnected' events) per second after 20 s, growing CPU and memory.
//   So we never let it reconnect our watchers: on the first 'disconnected' we detach the watcher (its
//   timers then find no watcher and stop), wait for etcd ourselves with capped exponential backoff and
//   jitter, probing with a one-key count, and attach a fresh watcher once etcd answers.
// * etcd accepts a watch from a revision it has not reached yet and sends nothing until it gets
//   there. After a restore from an older snapshot, a watch resumed from our last revision would sit
//   silent; so every header we get (probe, 'created', events) is checked: a revision below the one we
//   delivered, or another cluster id, means a reset. Limit: a store recreated with the same cluster
//   id that has already written past our revision looks like the old one.
// * A watch on a compacted revision is answered "created" and then cancelled; etcd3 drops the
//   compact_revision, emits 'error' ("Watcher canceled: ") and forgets the watcher. Any server-side
//   cancel therefore means "history unavailable": we resync.
// * `create()` resolves on 'connected' and only then could we attach listeners; an 'error' arriving in
//   the same tick would have no listener and crash the process. `watcher()` attaches the watcher
//   without waiting, so our listeners are in place before anything can be emitted.
import { ClientClosedError, Range, type Etcd3, type IResponseHeader, type IWatchResponse, type Watcher } from 'etcd3';
import { decodeEntry, type SkippedEntry, type StoredEntry, type ValueCheck } from './decode-entry.js';
import { connectionSettings, describeEndpoints } from './etcd-connection.js';
import { toStoreError } from './map-etcd-error.js';
import { retryWithBackoff } from './retry-with-backoff.js';
import { RetryAbortedError } from './store-errors.js';

export type WatchRange = { readonly prefix: string } | { readonly key: string };

/** Why a watch could not simply go on: its history was compacted away, or etcd was reset. */
export type ResyncReason = 'compacted' | 'reset';

export type WatchEvent<T> =
  | { readonly type: 'put'; readonly key: string; readonly value: T; readonly modRevision: string; readonly createRevision: string; readonly lease: string }
  | { readonly type: 'delete'; readonly key: string; readonly modRevision: string }
  /** The key now holds a value that is not a valid T: treat it as absent, and report `problem`. */
  | { readonly type: 'skipped'; readonly key: string; readonly problem: string; readonly modRevision: string }
  /** History was unavailable: `entries` is the whole range at `revision`; rebuild from it and diff. */
  | { readonly type: 'resync'; readonly reason: ResyncReason; readonly entries: ReadonlyMap<string, StoredEntry<T>>; readonly skipped: readonly SkippedEntry[]; readonly revision: string };

export type WatchHandler<T> = (event: WatchEvent<T>) => void | Promise<void>;

export interface WatchOptions {
  /** Handler failures, and a failure that ends the watch (client closed, no permission). Default: ignored. */
  readonly onError?: (error: unknown) => void;
  /** Called once when the watch loses etcd, and once when it is watching again; never twice in a row
   * with the same value. It starts connected. */
  readonly onConnectionChange?: (connected: boolean) => void;
  /** Backoff while waiting for etcd (reconnects, resync reads). Default: 100 ms up to the client's
   * `reconnectMaxMs`. */
  readonly retry?: { readonly initialMs?: number; readonly maxMs?: number };
  /**
   * The caller's own writes coming back: a change `echoOf` recognises (by the exact bytes of a put,
   * or a delete: undefined) goes, undecoded, to `onEcho` with what `echoOf` returned instead of the
   * handler, in order with the rest.
   */
  readonly echoes?: EchoFilter<unknown>;
}

/** See WatchOptions.echoes: `echoOf` answers undefined for anything that is not an echo. */
export interface EchoFilter<E> {
  readonly echoOf: (key: string, value: Uint8Array | undefined) => E | undefined;
  readonly onEcho: (key: string, echo: E) => void;
}

export interface WatchHandle {
  /** The revision of the last change delivered to the handler (or of the resync). */
  readonly lastRevision: string;
  close(): Promise<void>;
}

export interface RangeRead<T> {
  readonly entries: ReadonlyMap<string, StoredEntry<T>>;
  readonly skipped: readonly SkippedEntry[];
  readonly revision: string;
}

const CANCEL_TIMEOUT_MS = 2000;
/** What etcd3 decodes a header's missing cluster id as. */
const NO_CLUSTER_ID = '0';

export function startRangeWatch<T>(
  client: Etcd3,
  range: WatchRange,
  fromRevision: string,
  check: ValueCheck<T>,
  read: () => Promise<RangeRead<T>>,
  handler: WatchHandler<T>,
  options: WatchOptions = {},
): WatchHandle {
  const { onError = () => {}, onConnectionChange, echoes } = options;
  const abort = new AbortController();
  const endpoints = describeEndpoints(client);
  let received = BigInt(fromRevision);
  let clusterId: string | undefined;
  let watcher: Watcher | undefined;
  let connected = true;
  // Handler calls run one at a time, in revision order, even when the handler is async.
  let queue = Promise.resolve();
  const deliver = (run: () => void | Promise<void>) => {
    queue = queue.then(run).catch((error: unknown) => {
      if (!abort.signal.aborted) onError(error);
    });
  };

  const setConnected = (value: boolean) => {
    if (value === connected || abort.signal.aborted) return;
    connected = value;
    onConnectionChange?.(value);
  };

  /** Retries `fn` until etcd answers, reporting the connection lost on the first failure. (While etcd
   * is down an attempt costs a refused TCP connect: see etcd-fault-handling.ts.) */
  const untilAnswered = <R>(fn: () => Promise<R>) =>
    retryWithBackoff(
      async () => {
        try {
          return await fn();
        } catch (error) {
          throw toStoreError(error, endpoints);
        }
      },
      { initialMs: options.retry?.initialMs ?? 100, maxMs: options.retry?.maxMs ?? connectionSettings(client).reconnectMaxMs, signal: abort.signal, onRetry: () => setConnected(false) },
    );

  /** Runs a wait for etcd in the background; a failure that waiting cannot cure ends the watch. */
  const background = (run: () => Promise<void>) => {
    run().catch((error: unknown) => {
      if (abort.signal.aborted || error instanceof RetryAbortedError) return;
      abort.abort();
      onError(error);
    });
  };

  /** True when `header` comes from a different store than the revisions we delivered. */
  const isReset = (header: IResponseHeader): boolean => {
    // etcd grpc-proxy answers a watch it folds into an existing one with a "created" of its own
    // making: no cluster id ("0"). That says nothing about the cluster, so it is not compared.
    const known = header.cluster_id !== NO_CLUSTER_ID;
    const reset = BigInt(header.revision) < received || (known && clusterId !== undefined && header.cluster_id !== clusterId);
    if (known) clusterId = header.cluster_id;
    return reset;
  };

  const detach = () => {
    const current = watcher;
    watcher = undefined;
    void current?.cancel().catch(() => {});
  };

  const attach = () => {
    const builder = client.watch();
    if ('prefix' in range) builder.prefix(range.prefix);
    else builder.key(range.key);
    // Resume AT the last delivered revision, not after it: etcd 3.4 < 3.4.34 silently drops the
    // first event when a watch starts exactly at the compaction revision (etcd-io/etcd#18089).
    // The repeat is filtered in onData; a compaction past it still cancels the watch and resyncs.
    const attached = builder.startRevision(String(received > 0n ? received : 1n)).watcher();
    watcher = attached;
    const current = () => watcher === attached && !abort.signal.aborted;
    attached.on('connected', (response: IWatchResponse) => {
      if (!current()) return;
      if (isReset(response.header)) return restart('reset');
      setConnected(true);
    });
    attached.on('data', (response) => {
      if (current()) onData(response);
    });
    attached.on('disconnected', (error) => {
      if (!current()) return;
      detach();
      if (error instanceof ClientClosedError) {
        abort.abort();
        onError(error);
        return;
      }
      setConnected(false);
      background(reconnect);
    });
    attached.on('error', () => {
      if (!current()) return;
      watcher = undefined; // etcd3 has already forgotten it
      resync('compacted');
    });
  };

  /** Waits until etcd answers a cheap read of the range, then watches again (or resyncs after a reset). */
  const reconnect = async () => {
    const { start, end } = 'prefix' in range ? Range.prefix(range.prefix) : { start: Buffer.from(range.key), end: undefined };
    const probe = await untilAnswered(() => client.kv.range({ key: start, ...(end && { range_end: end }), limit: 1, count_only: true }));
    if (abort.signal.aborted) return;
    if (isReset(probe.header)) resync('reset');
    else attach();
  };

  const onData = (response: IWatchResponse) => {
    if (isReset(response.header)) return restart('reset');
    for (const event of response.events) {
      const revision = BigInt(event.kv.mod_revision);
      if (revision <= received) continue;
      const key = event.kv.key.toString();
      const modRevision = String(event.kv.mod_revision);
      const echo = echoes?.echoOf(key, event.type === 'Delete' ? undefined : event.kv.value);
      if (echo !== undefined) {
        deliver(() => echoes!.onEcho(key, echo));
      } else if (event.type === 'Delete') {
        deliver(() => handler({ type: 'delete', key, modRevision }));
      } else {
        const decoded = decodeEntry(event.kv, check);
        const change: WatchEvent<T> = decoded.ok
          ? { type: 'put', key, ...decoded.entry }
          : { type: 'skipped', key, problem: decoded.skipped.problem, modRevision };
        deliver(() => handler(change));
      }
    }
    const last = response.events.at(-1);
    if (last) received = bigMax(received, BigInt(last.kv.mod_revision));
    // A response without events is a progress notification, sent only when the watcher has caught
    // up: everything up to its header revision has been delivered.
    else received = bigMax(received, BigInt(response.header.revision));
  };

  const restart = (reason: ResyncReason) => {
    detach();
    resync(reason);
  };

  const resync = (reason: ResyncReason) => {
    deliver(async () => {
      const snapshot = await untilAnswered(read);
      if (abort.signal.aborted) return;
      received = BigInt(snapshot.revision);
      attach();
      await handler({ type: 'resync', reason, entries: snapshot.entries, skipped: snapshot.skipped, revision: snapshot.revision });
    });
  };

  attach();
  return {
    get lastRevision() {
      return String(received);
    },
    close: async () => {
      abort.abort();
      const closing = watcher;
      watcher = undefined;
      // etcd3's cancel waits for the server's answer; with etcd down that answer never comes
      if (closing) await Promise.race([closing.cancel().catch(() => {}), delay(CANCEL_TIMEOUT_MS)]);
    },
  };
}

function bigMax(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
