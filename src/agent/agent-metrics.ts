// The agent's Prometheus metrics: per instance figures sampled on scrape (not on a timer, so an idle
// agent does no work nobody asked for), plus the agent's own process metrics. A private Registry, as
// for the controller, so several agents in one process (`ygg dev`, tests) never collide.
//
// Every instance series carries the job, the host, the release and version, and the job's service-
// tree levels (owt, pdl, cluster, service, …), so a dashboard or an alert can select by tree node.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { JOB_TREE_LABELS, jobTreeLabels } from '../model/tag.js';
import { EVENT_LOOP_SAMPLE_MS } from '../server/metrics.js';

export const AGENT_METRIC_PREFIX = 'ygg_agent_';

/** One instance at the moment of a scrape. Figures of a stopped instance are 0. */
export interface InstanceSample {
  readonly job: string;
  /** The job's service-tree tag, as its assignment names it. */
  readonly tag?: string;
  /** The release directory the instance runs from (its spec hash). */
  readonly release?: string;
  /** The job's spec.version. */
  readonly version?: string;
  /** The process runs. Default true (a sample read from a live pid). */
  readonly up?: boolean;
  readonly cpuSeconds: number;
  readonly rssBytes: number;
  readonly openFds: number;
  readonly restarts: number;
  readonly healthy: boolean;
  /** Running with no assignment behind it (its key vanished or stopped parsing). */
  readonly orphaned?: boolean;
  readonly uptimeSeconds: number;
  /** How long the last health check took; absent without a check or before the first one ended. */
  readonly healthCheckSeconds?: number;
  /** Per cron task that ran: its last exit code (-1: killed by a signal, timed out or not started). */
  readonly cronExitCodes?: Readonly<Record<string, number>>;
}

const INSTANCE_LABELS = [...JOB_TREE_LABELS, 'host', 'release', 'version'] as const;
type InstanceLabel = (typeof INSTANCE_LABELS)[number];

/** The labels of one instance's series: the job and its tree levels, then host, release and version. */
function instanceLabels(sample: InstanceSample, host: string | undefined): Partial<Record<InstanceLabel, string>> {
  return {
    ...jobTreeLabels(sample.job, sample.tag),
    ...(host !== undefined && { host }),
    ...(sample.release !== undefined && { release: sample.release }),
    ...(sample.version !== undefined && { version: sample.version }),
  };
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
  /** The host the agent serves, a label of every instance series. */
  readonly host?: string;
}

export function createAgentMetrics(sampleInstances: SampleInstances, options: AgentMetricsOptions = {}): AgentMetrics {
  const registry = new Registry();
  // Event-loop lag sampled every 100 ms, as the controller's: prom-client's 10 ms default costs ~0.45 % of a core on every host.
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: AGENT_METRIC_PREFIX, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });

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

  // Nine series read the same sample's labels in one scrape: build them once per sample.
  const labelsBySample = new WeakMap<InstanceSample, Partial<Record<InstanceLabel, string>>>();
  const labelsOf = (sample: InstanceSample) => {
    let labels = labelsBySample.get(sample);
    if (labels === undefined) labelsBySample.set(sample, (labels = instanceLabels(sample, options.host)));
    return labels;
  };
  const instanceGauge = (suffix: string, help: string, value: (sample: InstanceSample) => number | undefined) =>
    new Gauge({
      name: `${AGENT_METRIC_PREFIX}instance_${suffix}`,
      help,
      labelNames: INSTANCE_LABELS,
      registers: [registry],
      async collect() {
        const samples = await sampleOnce();
        // reset first: an instance removed since the last scrape must disappear, not freeze
        this.reset();
        for (const sample of samples) {
          const figure = value(sample);
          if (figure !== undefined) this.set(labelsOf(sample), figure);
        }
      },
    });

  instanceGauge('up', '1 while the instance process runs, else 0.', (sample) => (sample.up === false ? 0 : 1));
  instanceGauge('cpu_seconds', 'CPU time (user + system) used by the instance process, in seconds.', (sample) => sample.cpuSeconds);
  instanceGauge('rss_bytes', 'Resident memory of the instance process, in bytes.', (sample) => sample.rssBytes);
  instanceGauge('open_fds', 'Open file descriptors of the instance process.', (sample) => sample.openFds);
  instanceGauge('healthy', '1 while the instance passes its health check, else 0.', (sample) => (sample.healthy ? 1 : 0));
  instanceGauge('health_check_seconds', 'How long the last health check of the instance took, in seconds.', (sample) => sample.healthCheckSeconds);
  instanceGauge('orphaned', '1 while the instance runs with no assignment behind it (its key vanished or stopped parsing), waiting for the controller.', (sample) => (sample.orphaned ? 1 : 0));
  instanceGauge('uptime_seconds', 'Seconds since the instance process started.', (sample) => sample.uptimeSeconds);
  // a counter in type, so rate() and increase() apply; its value is the supervisor's own count
  new Counter({
    name: `${AGENT_METRIC_PREFIX}instance_restarts_total`,
    help: 'Times the supervisor restarted the instance since the agent adopted or started it.',
    labelNames: INSTANCE_LABELS,
    registers: [registry],
    async collect() {
      const samples = await sampleOnce();
      this.reset();
      for (const sample of samples) this.inc(labelsOf(sample), sample.restarts);
    },
  });
  new Gauge({
    name: `${AGENT_METRIC_PREFIX}cron_last_exit_code`,
    help: 'Exit code of the last run of each cron task of the instance (-1: killed by a signal, timed out, or could not start).',
    labelNames: [...INSTANCE_LABELS, 'task'] as const,
    registers: [registry],
    async collect() {
      const samples = await sampleOnce();
      this.reset();
      for (const sample of samples) {
        for (const [task, code] of Object.entries(sample.cronExitCodes ?? {})) this.set({ ...labelsOf(sample), task }, code);
      }
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
