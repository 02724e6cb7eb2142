// The agent's Prometheus metrics: per instance figures sampled on scrape (not on a timer, so an idle
// agent does no work nobody asked for), plus the agent's own process metrics. A private Registry, as
// for the controller, so several agents in one process (`ygg dev`, tests) never collide.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export const AGENT_METRIC_PREFIX = 'ygg_agent_';

/** One instance at the moment of a scrape. Figures of a stopped instance are 0. */
export interface InstanceSample {
  readonly job: string;
  readonly cpuSeconds: number;
  readonly rssBytes: number;
  readonly openFds: number;
  readonly restarts: number;
  readonly healthy: boolean;
  /** Running with no assignment behind it (its key vanished or stopped parsing). */
  readonly orphaned?: boolean;
  readonly uptimeSeconds: number;
}

export type SampleInstances = () => readonly InstanceSample[] | Promise<readonly InstanceSample[]>;

export interface AgentMetrics {
  readonly registry: Registry;
  /** The Prometheus text exposition. */
  metrics(): Promise<string>;
  readonly contentType: string;
}

export interface AgentMetricsOptions {
  /** The agent's own process metrics (cpu, memory, event loop lag, GC). Default true. */
  readonly defaultMetrics?: boolean;
}

export function createAgentMetrics(sampleInstances: SampleInstances, options: AgentMetricsOptions = {}): AgentMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: AGENT_METRIC_PREFIX });

  // A scrape collects every metric at once (prom-client runs the collect callbacks together): share
  // one sample among them, so the figures agree and /proc is read once per scrape, not six times.
  // A failing sampler must not take the agent's own metrics down with it: the scrape shows no
  // instances and the error counter moves, which is itself worth an alert.
  let pending: Promise<readonly InstanceSample[]> | undefined;
  const sampleOnce = () => {
    pending ??= Promise.resolve()
      .then(sampleInstances)
      .catch(() => {
        sampleErrorsTotal.inc();
        return [];
      })
      .finally(() => (pending = undefined));
    return pending;
  };
  const sampleErrorsTotal = new Counter({
    name: `${AGENT_METRIC_PREFIX}sample_errors_total`,
    help: 'Scrapes on which sampling the instances failed (their figures were left out).',
    registers: [registry],
    // waits for this scrape's sample, so a failure shows in the same scrape
    async collect() {
      await sampleOnce();
    },
  });

  const instanceGauge = (suffix: string, help: string, value: (sample: InstanceSample) => number) =>
    new Gauge({
      name: `${AGENT_METRIC_PREFIX}instance_${suffix}`,
      help,
      labelNames: ['job'] as const,
      registers: [registry],
      async collect() {
        const samples = await sampleOnce();
        // reset first: an instance removed since the last scrape must disappear, not freeze
        this.reset();
        for (const sample of samples) this.set({ job: sample.job }, value(sample));
      },
    });

  instanceGauge('cpu_seconds', 'CPU time (user + system) used by the instance process, in seconds.', (sample) => sample.cpuSeconds);
  instanceGauge('rss_bytes', 'Resident memory of the instance process, in bytes.', (sample) => sample.rssBytes);
  instanceGauge('open_fds', 'Open file descriptors of the instance process.', (sample) => sample.openFds);
  instanceGauge('healthy', '1 while the instance passes its health check, else 0.', (sample) => (sample.healthy ? 1 : 0));
  instanceGauge('orphaned', '1 while the instance runs with no assignment behind it (its key vanished or stopped parsing), waiting for the controller.', (sample) => (sample.orphaned ? 1 : 0));
  instanceGauge('uptime_seconds', 'Seconds since the instance process started.', (sample) => sample.uptimeSeconds);
  // a counter in type, so rate() and increase() apply; its value is the supervisor's own count
  new Counter({
    name: `${AGENT_METRIC_PREFIX}instance_restarts_total`,
    help: 'Times the supervisor restarted the instance since the agent adopted or started it.',
    labelNames: ['job'] as const,
    registers: [registry],
    async collect() {
      const samples = await sampleOnce();
      this.reset();
      for (const sample of samples) this.inc({ job: sample.job }, sample.restarts);
    },
  });
  new Gauge({
    name: `${AGENT_METRIC_PREFIX}instances`,
    help: 'Instances the agent supervises.',
    registers: [registry],
    async collect() {
      this.set((await sampleOnce()).length);
    },
  });

  return { registry, metrics: () => registry.metrics(), contentType: registry.contentType };
}
