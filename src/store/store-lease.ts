// A lease kept alive (lease-keepalive.ts: every TTL/3), with loss reported through `onLost`.
//
// etcd says a lease is gone (expired or revoked) only when it can be asked; while etcd is unreachable
// the keys under the lease vanish for everyone else after the TTL. So we also watch the clock: no
// successful renewal for `lostAfterMs` (default: the TTL) means lost. A lost handle stops renewing and
// revokes, so its keys never outlive the owner's belief that it holds them.
import { EtcdLeaseInvalidError, type Etcd3 } from 'etcd3';
import { connectionSettings } from './etcd-connection.js';
import { keepLeaseAlive } from './lease-keepalive.js';
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
  let id: string;
  try {
    id = String((await client.leaseClient.leaseGrant({ TTL: ttlSeconds })).ID);
  } catch (error) {
    throw toStoreError(error, endpoints);
  }

  const listeners = new Set<(error: LeaseLostError) => void>();
  let lostError: LeaseLostError | undefined;
  let renewedAt = Date.now();
  let ended = false;
  const keepAlive = keepLeaseAlive(client, id, {
    ttlSeconds,
    onRenewed: () => (renewedAt = Date.now()),
    onExpired: () => markLost('etcd says it expired or was revoked'),
    retry: { initialMs: 100, maxMs: Math.min(connectionSettings(client).reconnectMaxMs, lostAfterMs / 4) },
  });
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
    keepAlive.stop();
  }

  async function revoke() {
    try {
      await client.leaseClient.leaseRevoke({ ID: id });
    } catch (error) {
      if (!(error instanceof EtcdLeaseInvalidError)) throw error;
    }
  }

  function markLost(reason: string) {
    if (ended) return;
    end();
    lostError = new LeaseLostError(id, reason);
    // best effort: if etcd is reachable again, make sure the lease does not linger
    revoke().catch(() => {});
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
        await revoke();
      } catch (error) {
        throw toStoreError(error, endpoints);
      }
    },
    release() {
      end();
      listeners.clear();
    },
  };
}
