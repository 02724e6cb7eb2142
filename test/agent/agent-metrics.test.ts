import assert from 'node:assert/strict';
import { test } from 'node:test';
import { register } from 'prom-client';
import { createAgentMetrics, type InstanceSample } from '../../src/agent/agent-metrics.js';
import { readProcessMetrics } from '../../src/agent/process-metrics.js';

const web: InstanceSample = { job: 'web', cpuSeconds: 12.5, rssBytes: 104857600, openFds: 17, restarts: 2, healthy: true, uptimeSeconds: 3600 };
const api: InstanceSample = { job: 'api', cpuSeconds: 0.25, rssBytes: 2048, openFds: 5, restarts: 0, healthy: false, uptimeSeconds: 10 };
const TAG = 'cop.acme_owt.ops_pdl.im_cluster.lg-1_servicegroup.edge_service.push_job.gate';

test('per instance figures by job, sampled once per scrape, plus the agent process metrics', async () => {
  let samples: InstanceSample[] = [web, api];
  let scrapes = 0;
  const metrics = createAgentMetrics(() => {
    scrapes += 1;
    return samples;
  });
  const text = await metrics.metrics();
  assert.equal(scrapes, 1);
  assert.match(text, /^ygg_agent_instance_cpu_seconds\{job="web"\} 12\.5$/m);
  assert.match(text, /^ygg_agent_instance_rss_bytes\{job="web"\} 104857600$/m);
  assert.match(text, /^ygg_agent_instance_open_fds\{job="api"\} 5$/m);
  assert.match(text, /^# TYPE ygg_agent_instance_restarts_total counter$/m);
  assert.match(text, /^ygg_agent_instance_restarts_total\{job="web"\} 2$/m);
  assert.match(text, /^ygg_agent_instance_restarts_total\{job="api"\} 0$/m);
  assert.match(text, /^ygg_agent_instance_healthy\{job="web"\} 1$/m);
  assert.match(text, /^ygg_agent_instance_healthy\{job="api"\} 0$/m);
  assert.match(text, /^ygg_agent_instance_uptime_seconds\{job="web"\} 3600$/m);
  assert.match(text, /^ygg_agent_instances 2$/m);
  assert.match(text, /^ygg_agent_process_cpu_user_seconds_total /m);
  assert.match(text, /^ygg_agent_process_resident_memory_bytes /m);
  assert.equal(metrics.contentType, 'text/plain; version=0.0.4; charset=utf-8');

  // an instance removed since the last scrape disappears instead of freezing at its last value
  samples = [{ ...web, restarts: 3 }];
  const next = await metrics.metrics();
  assert.equal(scrapes, 2);
  assert.doesNotMatch(next, /job="api"/);
  assert.match(next, /^ygg_agent_instance_restarts_total\{job="web"\} 3$/m);
  assert.doesNotMatch(await register.metrics(), /ygg_agent_/);
});

test('an async sampler reading /proc for real pids', async () => {
  const metrics = createAgentMetrics(
    async () => {
      const sample = await readProcessMetrics(process.pid);
      return [{ job: 'self', restarts: 0, healthy: true, ...sample }];
    },
    { defaultMetrics: false },
  );
  const text = await metrics.metrics();
  const rss = Number(/^ygg_agent_instance_rss_bytes\{job="self"\} (\d+)$/m.exec(text)?.[1]);
  assert.ok(rss > 1024 * 1024, text);
  assert.doesNotMatch(text, /process_cpu/);
});

test('a failing sampler leaves the instances out and counts the failure, the scrape still answers', async () => {
  const metrics = createAgentMetrics(() => {
    throw new Error('proc unreadable');
  });
  const text = await metrics.metrics();
  assert.match(text, /^ygg_agent_sample_errors_total 1$/m);
  assert.match(text, /^ygg_agent_instances 0$/m);
  assert.doesNotMatch(text, /job="/);
  assert.match(text, /^ygg_agent_process_cpu_user_seconds_total /m);
});

test('instance series carry host, release, version and the tag levels; up, health latency, cron exit codes', async () => {
  const gate: InstanceSample = {
    job: 'gate',
    tag: TAG,
    release: 'r-1',
    version: '2.0.0',
    up: true,
    cpuSeconds: 1,
    rssBytes: 10,
    openFds: 3,
    restarts: 1,
    healthy: true,
    uptimeSeconds: 5,
    healthCheckSeconds: 0.012,
    cronExitCodes: { 'clean-logs': 0, rotate: -1 },
  };
  const stopped: InstanceSample = { ...api, tag: 'cop.acme_owt.ops_pdl.x_cluster.c_service.s_job.api', up: false, cpuSeconds: 0, rssBytes: 0, openFds: 0, uptimeSeconds: 0 };
  const metrics = createAgentMetrics(() => [gate, stopped], { host: 'lg-01', defaultMetrics: false });
  const text = await metrics.metrics();
  const labels = 'job="gate",cop="acme",owt="ops",pdl="im",cluster="lg-1",servicegroup="edge",service="push",host="lg-01",release="r-1",version="2.0.0"';
  assert.match(text, new RegExp(`^ygg_agent_instance_up\\{${labels}\\} 1$`, 'm'));
  assert.match(text, new RegExp(`^ygg_agent_instance_healthy\\{${labels}\\} 1$`, 'm'));
  assert.match(text, new RegExp(`^ygg_agent_instance_restarts_total\\{${labels}\\} 1$`, 'm'));
  assert.match(text, new RegExp(`^ygg_agent_instance_health_check_seconds\\{${labels}\\} 0.012$`, 'm'));
  assert.match(text, new RegExp(`^ygg_agent_cron_last_exit_code\\{${labels},task="clean-logs"\\} 0$`, 'm'));
  assert.match(text, new RegExp(`^ygg_agent_cron_last_exit_code\\{${labels},task="rotate"\\} -1$`, 'm'));
  // a stopped instance: up 0, no health latency (it had no check), no servicegroup (its tag skips the level)
  assert.match(text, /^ygg_agent_instance_up\{job="api",cop="acme",owt="ops",pdl="x",cluster="c",service="s",host="lg-01"\} 0$/m);
  assert.doesNotMatch(text, /^ygg_agent_instance_health_check_seconds\{job="api"/m);
});

test('label values are escaped, a garbled tag labels what it can', async () => {
  const odd: InstanceSample = { ...web, job: 'we"b', release: 'a\\b\nc', tag: 'owt.x_nonsense_service.y' };
  const text = await createAgentMetrics(() => [odd], { host: 'h', defaultMetrics: false }).metrics();
  assert.match(text, /^ygg_agent_instance_healthy\{job="we\\"b",owt="x",service="y",host="h",release="a\\\\b\\nc"\} 1$/m);
});
