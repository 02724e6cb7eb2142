// `ygg render prometheus --once` on a real fleet: two real agents on their own loopback addresses
// (one listening for metrics on its host IP, one on every address), each running a tagged job that
// naming lists. The target file lists every instance endpoint and agent, labelled by tree node, each
// target answers where it says, and Prometheus accepts the file through contrib's scrape config.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { TargetGroup } from '../../src/render/prometheus-targets.js';
import type { AgentRecord, HostRecord } from '../../src/store/records.js';
import { REPO_ROOT, agentRootDir, echoAssignment, spawnAgent, tearDownAgentTest, type AgentProcess } from '../fixtures/agent-harness.js';
import { FleetView, waitUntil } from '../fixtures/controller-harness.js';
import { freePort, sharedEtcd, uniquePrefix, type SharedEtcd } from '../fixtures/etcd-server.js';
import { syncCurrentRecord } from '../render/render-records.js';
import { runCli } from './run-cli.js';

const HOSTS = [
  { name: 'prom-a', ip: '127.0.0.66', idc: 'lg', metricsListen: '127.0.0.66:0' },
  { name: 'prom-b', ip: '127.0.0.67', idc: 'zw', metricsListen: '0.0.0.0:0' },
] as const;
const TAG = (job: string) => `cop.acme_owt.shop_pdl.web_cluster.prod_service.www_job.${job}`;

let etcd: SharedEtcd;
let view: FleetView;
const agents: AgentProcess[] = [];

before(async () => {
  etcd = await sharedEtcd();
  view = new FleetView(etcd.url, uniquePrefix('render-prometheus'));
});

after(async () => {
  for (const agent of agents) await agent.kill();
  await tearDownAgentTest(view, etcd);
});

test('render prometheus --once: instance endpoints and agents, labelled by tree node, reachable, and accepted by promtool', async () => {
  const ports = new Map<string, number>();
  for (const host of HOSTS) {
    const port = await freePort();
    ports.set(host.name, port);
    // What the controller writes from the Host documents, and the commit in force.
    const hostRecord: HostRecord = { name: host.name, ip: host.ip, labels: { idc: host.idc }, state: 'online', commit: 'c1' };
    const job = `shop-${host.name}`;
    const assignment = { ...echoAssignment(host.name, job, { port, ip: host.ip, services: [{ name: `svc.${job}`, port: 'http' }] }), tag: TAG(job) };
    await view.store.applyBatch([
      { put: `${view.layout.prefix}hosts/${host.name}`, value: hostRecord },
      { put: view.layout.assignment(host.name, job), value: assignment },
    ]);
    const root = await agentRootDir();
    agents.push(spawnAgent(['--host', host.name, '--root', root, '--etcd', etcd.url, '--etcd-prefix', view.prefix, '--metrics-listen', host.metricsListen, '--lease-ttl', '2s', '--no-watchdog']));
  }
  await view.store.applyBatch([{ put: view.layout.syncCurrent, value: syncCurrentRecord('c1') }]);
  await waitUntil(async () => (await view.values(view.layout.namings())).size === HOSTS.length || undefined, 'both instances in naming', 20_000);
  const published = new Map<string, string>();
  for (const host of HOSTS) {
    const record = (await view.values(view.layout.agent(host.name))).get(view.layout.agent(host.name)) as AgentRecord;
    published.set(host.name, record.metricsAddress!);
  }
  assert.match(published.get('prom-a')!, /^127\.0\.0\.66:\d+$/);
  assert.match(published.get('prom-b')!, /^0\.0\.0\.0:\d+$/);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'ygg-render-prometheus-'));
  const target = path.join(dir, 'ygg-targets.json');
  const started = Date.now();
  const result = await runCli('render', 'prometheus', '--etcd', etcd.url, '--etcd-prefix', view.prefix, '--out', target, '--once', '--log-level', 'error');
  const renderMs = Date.now() - started;
  assert.equal(result.code, 0, result.stderr);
  const groups = JSON.parse(readFileSync(target, 'utf8')) as TargetGroup[];
  const port = (address: string) => address.slice(address.lastIndexOf(':') + 1);
  const tree = { cluster: 'prod', cop: 'acme', owt: 'shop', pdl: 'web', service: 'www' };
  assert.deepEqual(groups, [
    { targets: [], labels: { __meta_ygg_commit: 'c1', __meta_ygg_revision: groups[0]!.labels.__meta_ygg_revision } },
    ...HOSTS.map((host) => ({
      targets: [`${host.ip}:${ports.get(host.name)}`],
      labels: { __meta_ygg_services: `svc.shop-${host.name}`, __meta_ygg_target: 'instance', ...tree, host: host.name, idc: host.idc, job: `shop-${host.name}` },
    })),
    ...HOSTS.map((host) => ({ targets: [`${host.ip}:${port(published.get(host.name)!)}`], labels: { __meta_ygg_target: 'agent', host: host.name, idc: host.idc } })),
  ].map((group) => ({ targets: group.targets, labels: Object.fromEntries(Object.entries(group.labels).sort(([a], [b]) => (a < b ? -1 : 1))) })));

  // Every target answers where the file says: the jobs on their host IP, the agents' /metrics.
  for (const group of groups.slice(1)) {
    const [address] = group.targets;
    const response = await fetch(`http://${address}${group.labels.__meta_ygg_target === 'agent' ? '/metrics' : '/health'}`);
    assert.equal(response.status, 200, address);
    if (group.labels.__meta_ygg_target === 'agent') assert.match(await response.text(), new RegExp(`^ygg_agent_instance_up\\{job="shop-${group.labels.host}",cop="acme"`, 'm'));
  }

  // contrib's scrape config, pointed at the file: Prometheus reads it as it is.
  const config = path.join(dir, 'prometheus.yml');
  writeFileSync(config, readFileSync(path.join(REPO_ROOT, 'contrib/prometheus/prometheus.yml'), 'utf8').replaceAll('/etc/prometheus/ygg-targets.json', target).replace(/^rule_files:\n {2}- ygg-alerts\.yml\n/m, ''));
  const checked = await promisify(execFile)('promtool', ['check', 'config', config]);
  assert.match(checked.stdout + checked.stderr, /SUCCESS: .*prometheus\.yml is valid/);
  assert.doesNotMatch(checked.stdout + checked.stderr, /WARNING/);
  console.log(`# render prometheus --once on ${HOSTS.length} agents: ${renderMs} ms (with the promtool check)`);
});
