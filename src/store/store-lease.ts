// A lease kept alive by etcd3's own keep-alive (every ttl/3), with loss reported through `onLost`.
//
// etcd3 emits 'lost' when etcd answers that the lease is gone (expired or revoked), but while etcd is
// unreachable it waits 2 × TTL before saying so, long after the keys under the lease have vanished
// for everyone else. So we also watch the clock: no successful renewal for `lostAfterMs` (default:
// the TTL) means lost. A lost handle stops renewing and revokes, so its keys never outlive the owner's
// belief that it holds them. (With etcd3's `autoKeepAlive: false`, 'lost' never fires at all.)
import type { Etcd3, Lease } from 'etcd3';
import { toStoreError } from './map-etcd-error.js';
import { LeaseLostError } from './store-errors.js';

export interface LeaseOptions {
  /** Declare the lease lost when it has not been renewed for this long. Default: the TTL. */
  readonly lostAfterMs?: number;
}

export interface LeaseHandle {
  /** The lease ID, as etcd3 gives it (a decimal string), for `put ... lease`. */
  readonly id: string;
  readonly ttlSeconds: number;
  readonly lost: boolean;
  /** When the lease was last renewed (epoch ms). */
  readonly renewedAt: number;
  /** Calls `listener` once when the lease is lost (at once if it already is); returns an unsubscribe. */
  onLost(listener: (error: LeaseLostError) => void): () => void;
  /** Stops renewing and deletes the lease, and with it every key attached to it. */
  revoke(): Promise<void>;
  /** Stops renewing without revoking: the lease, and its keys, expire after the TTL (what a crash does). */
  release(): void;
}

export async function grantLease(client: Etcd3, endpoints: string, ttlSeconds: number, options: LeaseOptions = {}): Promise<LeaseHandle> {
  const lostAfterMs = options.lostAfterMs ?? ttlSeconds * 1000;
  const lease: Lease = client.lease(ttlSeconds);
  // etcd3 reports a failed grant both by rejecting grant() and by emitting 'lost'; listen from the
  // start so neither goes unheard.
  let grantFailure: unknown;
  let granted = false;
  lease.on('lost', (error) => {
    if (granted) markLost(error.message, error);
    else grantFailure = error;
  });
  let id: string;
  try {
    id = await lease.grant();
  } catch (error) {
    throw toStoreError(grantFailure ?? error, endpoints);
  }
  granted = true;

  const listeners = new Set<(error: LeaseLostError) => void>();
  let lostError: LeaseLostError | undefined;
  let renewedAt = Date.now();
  let ended = false;
  lease.on('keepaliveSucceeded', () => (renewedAt = Date.now()));
  const watchdog = setInterval(
    () => {
      const silentMs = Date.now() - renewedAt;
      if (silentMs > lostAfterMs) markLost(`not renewed for ${silentMs} ms`);
    },
    Math.max(50, Math.min(1000, lostAfterMs / 10)),
  );
  watchdog.unref();

  function end() {
    ended = true;
    clearInterval(watchdog);
  }

  function markLost(reason: string, cause?: unknown) {
    if (ended) return;
    end();
    lostError = new LeaseLostError(id, reason, { cause });
    // best effort: if etcd is reachable again, make sure the lease does not linger
    lease.revoke().catch(() => {});
    for (const listener of listeners) listener(lostError);
    listeners.clear();
  }

  return {
    id,
    ttlSeconds,
    get lost() {
      return lostError !== undefined;
    },
    get renewedAt() {
      return renewedAt;
    },
    onLost(listener) {
      if (lostError) {
        listener(lostError);
        return () => {};
      }
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async revoke() {
      end();
      listeners.clear();
      try {
        await lease.revoke();
      } catch (error) {
        throw toStoreError(error, endpoints);
      }
    },
    release() {
      end();
      listeners.clear();
      lease.release();
    },
  };
}
