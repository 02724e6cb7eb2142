// A watch that never misses or replays stale updates: it resumes from the last revision it delivered
// after a disconnect, and when that revision has been compacted away it reads the whole range again
// and hands the handler a `resync` to rebuild from.
//
// How etcd3 1.1.2 behaves, and why this module looks the way it does:
// * Its watch manager re-attaches watchers by itself after a disconnect, from `request.start_revision`,
//   which it advances to the *header* revision + 1 of every response, including the "created"
//   response. Events still in flight from an older start revision would then be skipped, so on every
//   'disconnected' we set `start_revision` back to what we actually delivered + 1.
// * A watch on a compacted revision is answered "created" and then cancelled with compact_revision
//   set; etcd3 drops the compact_revision and emits 'error' ("Watcher canceled: ") and forgets the
//   watcher. Any server-side cancel therefore means "history unavailable": we resync.
// * `create()` resolves on 'connected' and only then could we attach listeners; an 'error' arriving in
//   the same tick would have no listener and crash the process. `watcher()` attaches the watcher
//   without waiting, so our listeners are in place before anything can be emitted.
import { ClientClosedError, type Etcd3, type IWatchResponse, type Watcher } from 'etcd3';
import { decodeEntry, type SkippedEntry, type StoredEntry, type ValueCheck } from './decode-entry.js';
import { retryWithBackoff } from './retry-with-backoff.js';

export type WatchRange = { readonly prefix: string } | { readonly key: string };

export type WatchEvent<T> =
  | { readonly type: 'put'; readonly key: string; readonly value: T; readonly modRevision: string; readonly createRevision: string; readonly lease: string }
  | { readonly type: 'delete'; readonly key: string; readonly modRevision: string }
  /** The key now holds a value that is not a valid T: treat it as absent, and report `problem`. */
  | { readonly type: 'skipped'; readonly key: string; readonly problem: string; readonly modRevision: string }
  /** History was unavailable: `entries` is the whole range at `revision`; rebuild from it and diff. */
  | { readonly type: 'resync'; readonly entries: ReadonlyMap<string, StoredEntry<T>>; readonly skipped: readonly SkippedEntry[]; readonly revision: string };

export type WatchHandler<T> = (event: WatchEvent<T>) => void | Promise<void>;

export interface WatchOptions {
  /** Handler failures, and failed reads while resyncing (retried). Default: ignored. */
  readonly onError?: (error: unknown) => void;
  readonly onConnectionChange?: (connected: boolean) => void;
  /** Backoff of resync reads. */
  readonly retry?: { readonly initialMs?: number; readonly maxMs?: number };
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

export function startRangeWatch<T>(
  client: Etcd3,
  range: WatchRange,
  fromRevision: string,
  check: ValueCheck<T>,
  read: () => Promise<RangeRead<T>>,
  handler: WatchHandler<T>,
  options: WatchOptions = {},
): WatchHandle {
  const { onError = () => {}, onConnectionChange, retry } = options;
  const abort = new AbortController();
  let received = BigInt(fromRevision);
  let watcher: Watcher | undefined;
  // Handler calls run one at a time, in revision order, even when the handler is async.
  let queue = Promise.resolve();
  const deliver = (run: () => void | Promise<void>) => {
    queue = queue.then(run).catch((error: unknown) => {
      if (!abort.signal.aborted) onError(error);
    });
  };

  const attach = () => {
    const builder = client.watch();
    if ('prefix' in range) builder.prefix(range.prefix);
    else builder.key(range.key);
    // From the last revision already seen (its events are filtered out below); see the note on reconnects.
    const attached = builder.startRevision(String(received > 0n ? received : 1n)).watcher();
    watcher = attached;
    attached.on('data', (response) => onData(response));
    attached.on('connected', () => onConnectionChange?.(true));
    attached.on('disconnected', (error) => {
      if (error instanceof ClientClosedError) {
        // the client is gone: stop etcd3's endless reconnect loop for this watcher
        abort.abort();
        void attached.cancel();
        onError(error);
        return;
      }
      // Resume AT the last delivered revision, not after it: etcd 3.4 < 3.4.34 silently drops the
      // first event when a watch starts exactly at the compaction revision (etcd-io/etcd#18089).
      // The repeat is filtered below; a compaction past it still cancels the watch and resyncs.
      attached.request.start_revision = String(received);
      onConnectionChange?.(false);
    });
    attached.on('error', () => {
      if (watcher === attached) watcher = undefined;
      if (!abort.signal.aborted) resync();
    });
  };

  const onData = (response: IWatchResponse) => {
    for (const event of response.events) {
      const revision = BigInt(event.kv.mod_revision);
      if (revision <= received) continue;
      const key = event.kv.key.toString();
      const modRevision = String(event.kv.mod_revision);
      if (event.type === 'Delete') {
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

  const resync = () => {
    deliver(async () => {
      const snapshot = await retryWithBackoff(read, { ...retry, signal: abort.signal, onRetry: onError });
      if (abort.signal.aborted) return;
      received = BigInt(snapshot.revision);
      attach();
      await handler({ type: 'resync', entries: snapshot.entries, skipped: snapshot.skipped, revision: snapshot.revision });
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
