// Which instances answer where traffic arrives: GET http://<host ip>:<port>/health on every web
// host, every 250 ms. The count of healthy endpoints over time is what keepalived.conf must follow.
import http from 'node:http';

const PROBE_INTERVAL_MS = 250;
const PROBE_TIMEOUT_MS = 500;

export class EndpointProber {
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private healthy = new Set<string>();
  /** Each change of the set of healthy endpoints: when, and how many answer since. */
  readonly timeline: { readonly atMs: number; readonly healthy: number }[] = [];

  constructor(
    private readonly ips: readonly string[],
    private readonly port: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.probeAll(), PROBE_INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  healthyIps(): ReadonlySet<string> {
    return this.healthy;
  }

  /** How many answered at `atMs` (as last probed before it). */
  healthyAt(atMs: number): number {
    let count = 0;
    for (const change of this.timeline) {
      if (change.atMs > atMs) break;
      count = change.healthy;
    }
    return count;
  }

  /** Probes every endpoint now (also what the interval does). */
  async probeAll(): Promise<ReadonlySet<string>> {
    if (this.probing) return this.healthy;
    this.probing = true;
    try {
      const results = await Promise.all(this.ips.map(async (ip) => ((await probe(ip, this.port)) ? ip : undefined)));
      const next = new Set(results.filter((ip): ip is string => ip !== undefined));
      if (next.size !== this.healthy.size || [...next].some((ip) => !this.healthy.has(ip))) this.timeline.push({ atMs: Date.now(), healthy: next.size });
      this.healthy = next;
      return next;
    } finally {
      this.probing = false;
    }
  }
}

function probe(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ host: ip, port, path: '/health', agent: false, timeout: PROBE_TIMEOUT_MS }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('error', () => resolve(false));
    request.on('timeout', () => request.destroy());
  });
}
