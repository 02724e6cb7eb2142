// Renewing a lease over one long-lived LeaseKeepAlive stream (a request every TTL/3, as etcd's Go
// client does), re-opened with capped exponential backoff and jitter when it breaks.
//
// Not etcd3's own keep-alive: while etcd is down that one re-opens the stream every 100 ms, and each
// failed attempt makes etcd3 close and rebuild every gRPC channel to the host; several % of a core
// for as long as the outage lasts.
import type { Etcd3, ILeaseKeepAliveResponse } from 'etcd3';
import { backoffDelayMs } from './retry-with-backoff.js';

export interface KeepAliveOptions {
  readonly ttlSeconds: number;
  /** etcd extended the lease. */
  readonly onRenewed: () => void;
  /** etcd answered that the lease no longer exists (expired or revoked): renewing stops. */
  readonly onExpired: () => void;
  readonly retry: { readonly initialMs: number; readonly maxMs: number };
}

export interface KeepAlive {
  stop(): void;
}

export function keepLeaseAlive(client: Etcd3, id: string, options: KeepAliveOptions): KeepAlive {
  const { ttlSeconds, onRenewed, onExpired, retry } = options;
  const intervalMs = Math.max(1, (ttlSeconds * 1000) / 3);
  let stopped = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let closeStream = () => {};

  const retryLater = () => {
    if (stopped) return;
    failures++;
    retryTimer = setTimeout(() => void open(), backoffDelayMs(failures, retry.initialMs, retry.maxMs, Math.random));
    retryTimer.unref();
  };

  const open = async () => {
    let stream: Awaited<ReturnType<Etcd3['leaseClient']['leaseKeepAlive']>>;
    try {
      stream = await client.leaseClient.leaseKeepAlive();
    } catch {
      return retryLater();
    }
    let closed = false;
    let answered = true;
    // A request left unanswered for a whole interval means a dead connection that has not failed yet.
    const ticker = setInterval(() => (answered ? send() : close()), intervalMs);
    ticker.unref();
    const send = () => {
      answered = false;
      stream.write({ ID: id });
    };
    const close = (again = true) => {
      if (closed) return;
      closed = true;
      clearInterval(ticker);
      stream.end();
      if (again) retryLater();
    };
    closeStream = () => close(false);
    stream.on('data', (response: ILeaseKeepAliveResponse) => {
      answered = true;
      if (Number(response.TTL) > 0) {
        failures = 0;
        onRenewed();
        return;
      }
      stop();
      onExpired();
    });
    stream.on('error', () => close());
    stream.on('end', () => close());
    if (stopped) close(false);
    else send();
  };

  const stop = () => {
    stopped = true;
    clearTimeout(retryTimer);
    closeStream();
  };

  void open();
  return { stop };
}
