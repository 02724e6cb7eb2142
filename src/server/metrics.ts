// The controller's Prometheus metrics. A private Registry (not prom-client's global one) so two
// controllers in one process — tests, `ygg dev` — never collide on registration.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { JOB_TREE_LABELS, jobTreeLabels } from '../model/tag.js';

export const METRIC_PREFIX = 'ygg_';

/** How a reconcile ended: applied changes, found nothing to do, refused the commit, or failed. */
export type ReconcileResult = 'applied' | 'unchanged' | 'rejected' | 'error';

export type WebhookResult = 'accepted' | 'rejected';

/** One job as the controller's last reconcile saw it. */
export interface JobGaugeSample {
  readonly tag: string;
  readonly desired: number;
  readonly healthy: number;
  readonly rolling: boolean;
  /** Instances not yet on the commit's spec. */
  readonly outOfSync: number;
}

export interface ControllerMetrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<'result'>;
  readonly reconcileDurationSeconds: Histogram;
  readonly rolloutsInProgress: Gauge;
  readonly rescheduleHeldIdcs: Gauge;
  readonly rejectedCommitsTotal: Counter;
  readonly etcdErrorsTotal: Counter<'operation'>;
  readonly webhooksTotal: Counter<'provider' | 'result'>;
  /** Typed shorthands, so a label value cannot be misspelt at a call site. */
  countReconcile(result: ReconcileResult, durationSeconds: number): void;
  countWebhook(provider: 'github' | 'gitlab' | 'unknown', result: WebhookResult): void;
  /**
   * The per-job gauges read `jobs` at scrape time (job name → its figures), so a reconcile costs
   * nothing more and a job gone from it is gone from /metrics. The last call wins.
   */
  observeJobs(jobs: () => ReadonlyMap<string, JobGaugeSample>): void;
}

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event loop lag, GC). Off only where they would be noise. */
  readonly defaultMetrics?: boolean;
}

// A reconcile of one changed job takes milliseconds; a full resync of a large fleet, tens of seconds.
const RECONCILE_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * How often the event-loop lag is sampled. prom-client's default, 10 ms, is a timer waking the
 * process 100 times a second: ~0.45 % of a core by itself, half of an idle controller's CPU at 1,000
 * hosts. Every 100 ms costs ~0.05 %, and a stall long enough to matter (≥ 100 ms) is still seen.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

export function createControllerMetrics(options: MetricsOptions = {}): ControllerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });

  const reconcileTotal = new Counter({
    name: `${METRIC_PREFIX}reconcile_total`,
    help: 'Reconciles run, by result (applied, unchanged, rejected, error).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const reconcileDurationSeconds = new Histogram({
    name: `${METRIC_PREFIX}reconcile_duration_seconds`,
    help: 'Wall time of one reconcile, from reading the commit to the last etcd write.',
    buckets: RECONCILE_BUCKETS_SECONDS,
    registers: [registry],
  });
  const rolloutsInProgress = new Gauge({
    name: `${METRIC_PREFIX}rollouts_in_progress`,
    help: 'Jobs whose rolling update has started and not yet finished or failed.',
    registers: [registry],
  });
  const rescheduleHeldIdcs = new Gauge({
    name: `${METRIC_PREFIX}reschedule_held_idcs`,
    help: 'Idcs with so many hosts lost at once that it looks like a partition: while above 0, no replica is moved.',
    registers: [registry],
  });
  const rejectedCommitsTotal = new Counter({
    name: `${METRIC_PREFIX}rejected_commits_total`,
    help: 'Commits refused whole because they failed validation or the prune guard.',
    registers: [registry],
  });
  const etcdErrorsTotal = new Counter({
    name: `${METRIC_PREFIX}etcd_errors_total`,
    help: 'Failed etcd operations, by operation (get, put, txn, watch, lease, …).',
    labelNames: ['operation'] as const,
    registers: [registry],
  });
  const webhooksTotal = new Counter({
    name: `${METRIC_PREFIX}webhooks_total`,
    help: 'Git webhooks received, by provider and whether they were authenticated.',
    labelNames: ['provider', 'result'] as const,
    registers: [registry],
  });

  let observedJobs: () => ReadonlyMap<string, JobGaugeSample> = () => new Map();
  const jobGauge = (name: string, help: string, value: (job: JobGaugeSample) => number) =>
    new Gauge({
      name: `${METRIC_PREFIX}job_${name}`,
      help,
      labelNames: JOB_TREE_LABELS,
      registers: [registry],
      collect() {
        // reset first: a job removed from the repo must disappear, not freeze at its last value
        this.reset();
        for (const [job, sample] of observedJobs()) this.set(jobTreeLabels(job, sample.tag), value(sample));
      },
    });
  jobGauge('desired_instances', 'Instances the commit in force wants of the job.', (job) => job.desired);
  jobGauge('healthy_instances', 'Instances of the job that run the desired spec and pass their health check.', (job) => job.healthy);
  jobGauge('rolling', '1 while a rolling update of the job is under way, else 0.', (job) => (job.rolling ? 1 : 0));
  jobGauge('out_of_sync_instances', "Instances of the job not on the commit's spec yet: missing, on another spec (e.g. a failed rollout held), or still to be removed.", (job) => job.outOfSync);

  return {
    registry,
    reconcileTotal,
    reconcileDurationSeconds,
    rolloutsInProgress,
    rescheduleHeldIdcs,
    rejectedCommitsTotal,
    etcdErrorsTotal,
    webhooksTotal,
    countReconcile(result, durationSeconds) {
      reconcileTotal.inc({ result });
      reconcileDurationSeconds.observe(durationSeconds);
    },
    countWebhook(provider, result) {
      webhooksTotal.inc({ provider, result });
    },
    observeJobs(jobs) {
      observedJobs = jobs;
    },
  };
}
