// `ygg agent`'s /metrics on a real agent process running a real job: every instance series is
// labelled by host, release, version and the job's tree levels, and the agent publishes where it
// serves them (agents/<host> metricsAddress) for `ygg render prometheus`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { agentRootDir, echoAssignment, spawnAgent, tearDownAgentTest, waitForStatus, type AgentProcess } from '../fixtures/agent-harness.js';
import { FleetView, waitUntil } from '../fixtures/controller-harness.js';
import { freePort, sharedEtcd, uniquePrefix, type SharedEtcd } from '../fixtures/etcd-server.js';
import type { AgentRecord, NamingRecord } from '../../src/store/records.js';

const HOST = 'metrics-host-1';
const HOST_IP = '127.0.0.63';
const JOB = 'metered';
const TAG = `cop.acme_owt.ops_pdl.im_cluster.lg-1_service.push_job.${JOB}`;

let etcd: SharedEtcd;
let view: FleetView;
let agent: AgentProcess | undefined;

before(async () => {
  etcd = await sharedEtcd();
  view = new FleetView(etcd.url, uniquePrefix('agent-metrics'));
});

after(async () => {
  await agent?.kill();
  await tearDownAgentTest(view, etcd);
});

test('a real agent labels its instance series by tree node and publishes its metrics address', async () => {
  const root = await agentRootDir();
  const port = await freePort();
  agent = spawnAgent(['--host', HOST, '--root', root, '--etcd', etcd.url, '--etcd-prefix', view.prefix, '--metrics-listen', `${HOST_IP}:0`, '--lease-ttl', '2s', '--no-watchdog']);
  const base = echoAssignment(HOST, JOB, {
    port,
    ip: HOST_IP,
    spec: { cron: [{ name: 'fails', schedule: '* * * * * *', command: ['sh', '-c', 'exit 3'] }] },
  });
  // A tag of its own (the agent labels by what the record names; the spec hash is the controller's business).
  const assignment = { ...base, tag: TAG };
  await view.store.applyBatch([{ put: view.layout.assignment(HOST, JOB), value: assignment }]);
  const status = await waitForStatus(view, HOST, JOB, (record) => record.state === 'Healthy' && record.cron?.fails?.lastExit !== undefined, `${JOB} Healthy with a cron run`, 20_000);

  const record = (await view.values(view.layout.agent(HOST))).get(view.layout.agent(HOST)) as AgentRecord;
  assert.match(record.metricsAddress ?? '', new RegExp(`^${HOST_IP.replaceAll('.', '\\.')}:\\d+$`));
  const naming = [...(await view.values(view.layout.namings())).values()] as NamingRecord[];
  assert.deepEqual(naming.map((entry) => [entry.job, entry.tag]), [[JOB, TAG]]);

  const labels = `job="${JOB}",cop="acme",owt="ops",pdl="im",cluster="lg-1",service="push",host="${HOST}",release="${status.release}",version="${assignment.spec.version}"`;
  const text = await waitUntil(async () => {
    const body = await (await fetch(`http://${record.metricsAddress}/metrics`)).text();
    return body.includes('ygg_agent_instance_health_check_seconds{') ? body : undefined;
  }, 'a health check latency on /metrics');
  const value = (name: string, extra = '') => new RegExp(`^${name}\\{${labels}${extra}\\} (\\S+)$`, 'm').exec(text)?.[1];
  assert.equal(value('ygg_agent_instance_up'), '1', text);
  assert.equal(value('ygg_agent_instance_healthy'), '1');
  assert.equal(value('ygg_agent_instance_restarts_total'), '0');
  assert.equal(value('ygg_agent_cron_last_exit_code', ',task="fails"'), '3');
  const latency = Number(value('ygg_agent_instance_health_check_seconds'));
  assert.ok(latency > 0 && latency < 1, `health check latency ${latency}s`);
  assert.ok(Number(value('ygg_agent_instance_rss_bytes')) > 1024 * 1024);
  assert.ok(Number(value('ygg_agent_instance_cpu_seconds')) > 0);
});
