// The few figures of etcd's Prometheus /metrics the fan-out bench reads: watchers and watch streams
// on the server, gRPC streams started per method, messages received (requests and stream messages),
// and the proxy's own coalescing counters.
export interface EtcdMetrics {
  /** etcd_debugging_mvcc_watcher_total: watchers in the MVCC store (one per distinct client watch). */
  readonly watchers: number;
  /** etcd_debugging_mvcc_watch_stream_total: open gRPC Watch streams. */
  readonly watchStreams: number;
  /** grpc_server_started_total, per method (Watch, LeaseKeepAlive, Range, Txn…). */
  readonly started: ReadonlyMap<string, number>;
  /** grpc_server_msg_received_total, per method. */
  readonly received: ReadonlyMap<string, number>;
  /** etcd_grpc_proxy_watchers_coalescing_total: client watches a proxy folded into another (0 on etcd). */
  readonly proxyCoalescedWatchers: number;
}

export async function readEtcdMetrics(url: string): Promise<EtcdMetrics> {
  const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return parseEtcdMetrics(await response.text());
}

export function parseEtcdMetrics(text: string): EtcdMetrics {
  const single = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  const byMethod = (name: string) => {
    const sums = new Map<string, number>();
    for (const match of text.matchAll(new RegExp(`^${name}\\{[^}]*grpc_method="([^"]+)"[^}]*\\} (\\S+)$`, 'gm'))) {
      sums.set(match[1]!, (sums.get(match[1]!) ?? 0) + Number(match[2]));
    }
    return sums;
  };
  return {
    watchers: single('etcd_debugging_mvcc_watcher_total'),
    watchStreams: single('etcd_debugging_mvcc_watch_stream_total'),
    started: byMethod('grpc_server_started_total'),
    received: byMethod('grpc_server_msg_received_total'),
    proxyCoalescedWatchers: single('etcd_grpc_proxy_watchers_coalescing_total'),
  };
}

/** Messages received per second between two readings, per method and in total. */
export function messageRates(before: EtcdMetrics, after: EtcdMetrics, seconds: number): { total: number; byMethod: Record<string, number> } {
  const byMethod: Record<string, number> = {};
  let total = 0;
  for (const [method, count] of after.received) {
    const rate = (count - (before.received.get(method) ?? 0)) / seconds;
    total += rate;
    if (rate > 0) byMethod[method] = Math.round(rate * 10) / 10;
  }
  return { total: Math.round(total * 10) / 10, byMethod };
}
