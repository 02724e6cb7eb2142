import { test } from 'node:test';
import assert from 'node:assert/strict';
import { register } from 'prom-client';
import { createControllerMetrics } from '../../src/server/metrics.js';

test('metrics are ygg_-prefixed, labelled, and include the default process metrics', async () => {
  const metrics = createControllerMetrics();
  metrics.countReconcile('applied', 0.042);
  metrics.reconcileTotal.inc({ result: 'rejected' });
  metrics.rolloutsInProgress.set(3);
  metrics.rejectedCommitsTotal.inc();
  metrics.etcdErrorsTotal.inc({ operation: 'txn' });
  metrics.countWebhook('github', 'accepted');
  const text = await metrics.registry.metrics();
  assert.match(text, /^ygg_reconcile_total\{result="applied"\} 1$/m);
  assert.match(text, /^ygg_reconcile_total\{result="rejected"\} 1$/m);
  assert.match(text, /^ygg_reconcile_duration_seconds_bucket\{le="0.05"\} 1$/m);
  assert.match(text, /^ygg_reconcile_duration_seconds_count 1$/m);
  assert.match(text, /^ygg_rollouts_in_progress 3$/m);
  assert.match(text, /^ygg_rejected_commits_total 1$/m);
  assert.match(text, /^ygg_etcd_errors_total\{operation="txn"\} 1$/m);
  assert.match(text, /^ygg_webhooks_total\{provider="github",result="accepted"\} 1$/m);
  assert.match(text, /^ygg_process_cpu_user_seconds_total /m);
  assert.match(text, /^ygg_nodejs_heap_size_used_bytes /m);
  // Every metric name in the exposition carries the prefix.
  const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]!);
  assert.ok(names.length > 10);
  assert.deepEqual(names.filter((name) => !name.startsWith('ygg_')), []);
});

test('each controller gets its own registry, never the global one', async () => {
  const first = createControllerMetrics({ defaultMetrics: false });
  const second = createControllerMetrics({ defaultMetrics: false });
  first.rejectedCommitsTotal.inc();
  assert.match(await first.registry.metrics(), /^ygg_rejected_commits_total 1$/m);
  assert.match(await second.registry.metrics(), /^ygg_rejected_commits_total 0$/m);
  assert.doesNotMatch(await register.metrics(), /ygg_/);
  assert.doesNotMatch(await first.registry.metrics(), /process_cpu/);
});

test('per-job gauges read the observed jobs at scrape time: labelled by tree level, a job gone is gone', async () => {
  const metrics = createControllerMetrics({ defaultMetrics: false });
  const tag = 'cop.acme_owt.shop_pdl.web_cluster.prod_service.www_job.web';
  let jobs = new Map([
    ['web', { tag, desired: 3, healthy: 2, rolling: true, outOfSync: 1 }],
    ['old', { tag: 'cop.acme_owt.shop_pdl.web_cluster.prod_service.www_job.old', desired: 1, healthy: 1, rolling: false, outOfSync: 0 }],
  ]);
  assert.doesNotMatch(await metrics.registry.metrics(), /^ygg_job_\w+\{/m, 'nothing before a controller observes jobs');
  metrics.observeJobs(() => jobs);
  const labels = 'job="web",cop="acme",owt="shop",pdl="web",cluster="prod",service="www"';
  const text = await metrics.registry.metrics();
  assert.match(text, new RegExp(`^ygg_job_desired_instances\\{${labels}\\} 3$`, 'm'));
  assert.match(text, new RegExp(`^ygg_job_healthy_instances\\{${labels}\\} 2$`, 'm'));
  assert.match(text, new RegExp(`^ygg_job_rolling\\{${labels}\\} 1$`, 'm'));
  assert.match(text, new RegExp(`^ygg_job_out_of_sync_instances\\{${labels}\\} 1$`, 'm'));
  assert.match(text, /^ygg_job_rolling\{job="old",[^}]*\} 0$/m);
  jobs = new Map([...jobs].filter(([name]) => name !== 'old'));
  assert.doesNotMatch(await metrics.registry.metrics(), /job="old"/);
});
