// `ygg agent` as a real process with its twin watchdog and the director role, read line by line as
// an operator's log pipeline would: every line is one JSON object with each key once, each event is
// one line, and the watchdog's first start is not reported as a restart (a real one is).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { isSameProcess } from '../../src/agent/process-identity.js';
import { agentRootDir, cleanUp, echoAssignment, spawnAgent, waitForStatus, type AgentProcess } from '../fixtures/agent-harness.js';
import { FleetView, sleep, waitUntil, type LogLine } from '../fixtures/controller-harness.js';
import { freePort, sharedEtcd, uniquePrefix, type SharedEtcd } from '../fixtures/etcd-server.js';
import { repeatedKeys } from '../fixtures/json-keys.js';

const HOST = 'agent-log-1';
const HOST_IP = '127.0.0.61';
const JOB = 'chatty';

let etcd: SharedEtcd;
let view: FleetView;
let root: string;
let first: AgentProcess | undefined;

before(async () => {
  etcd = await sharedEtcd();
  view = new FleetView(etcd.url, uniquePrefix('agent-logs'));
  root = await agentRootDir();
});

after(async () => {
  try {
    // The watchdog first: it would start a killed agent again.
    for (const role of ['watchdog', 'agent'] as const) {
      const pid = twinPid(role);
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
    }
    await first?.kill();
  } finally {
    cleanUp();
    await view?.close().catch(() => undefined);
    await etcd?.stop();
  }
});

/** The live process of a twin role, from its pid file. */
function twinPid(role: 'agent' | 'watchdog'): number | undefined {
  try {
    const identity = JSON.parse(readFileSync(path.join(root, 'run', `${role}.pid.json`), 'utf8')) as { pid: number; startTime: number };
    return isSameProcess(identity) ? identity.pid : undefined;
  } catch {
    return undefined;
  }
}

/** The log lines in ROOT/log/agent.log, where the processes the twins started write (stderr too: its one banner line is left out). */
function agentLogLines(): string[] {
  const file = path.join(root, 'log', 'agent.log');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((line) => line.startsWith('{')) : [];
}

const parse = (lines: readonly string[]) => lines.map((line) => JSON.parse(line) as LogLine);
const events = (lines: readonly LogLine[], event: string) => lines.filter((line) => line.event === event);
const saying = (lines: readonly LogLine[], pattern: RegExp) => lines.filter((line) => pattern.test(String(line.msg)));

test('an agent with its watchdog and director role logs each event once, each key once, and no restart on a first start', async () => {
  const port = await freePort();
  const keepalivedConf = path.join(root, 'keepalived.conf');
  const args = ['--host', HOST, '--root', root, '--etcd', etcd.url, '--etcd-prefix', view.prefix, '--metrics-listen', '127.0.0.1:0', '--lease-ttl', '2s',
    '--render-keepalived', keepalivedConf];
  first = spawnAgent(args);
  await view.store.applyBatch([{ put: view.layout.assignment(HOST, JOB), value: echoAssignment(HOST, JOB, { port, ip: HOST_IP }) }]);
  await waitForStatus(view, HOST, JOB, (status) => status.state === 'Healthy', `${JOB} Healthy`, 15_000);
  await first.waitForLog((line) => line.event === 'agent_registered', 'agent registered');
  await first.waitForLog((line) => line.target === keepalivedConf, 'a line of the director role');
  const watchdog = await waitUntil(() => twinPid('watchdog'), 'the watchdog');

  // A real restart: the watchdog starts the agent again, which adopts the running job.
  await first.kill();
  await waitUntil(() => events(parse(agentLogLines()), 'instance_adopted').length > 0 || undefined, 'the restarted agent adopting the job', 15_000);
  await sleep(500); // long enough for a second line of the same event, were there one
  const restarted = twinPid('agent')!;
  process.kill(restarted, 'SIGTERM'); // a deliberate stop ends the watchdog too
  await waitUntil(() => (twinPid('agent') === undefined && twinPid('watchdog') === undefined) || undefined, 'both twins to stop');

  const logged = agentLogLines();
  for (const line of [...first.lines, ...logged]) assert.deepEqual(repeatedKeys(line), [], `each key once: ${line}`);
  const firstLines = parse(first.lines);
  const laterLines = parse(logged);

  assert.equal(events(firstLines, 'instance_started').length, 1, 'one instance_started');
  assert.equal(saying(firstLines, /instance started|started afresh/).length, 1, 'one line says the instance started');
  assert.equal(events(laterLines, 'instance_adopted').length, 1, 'one instance_adopted');
  assert.equal(saying(laterLines, /adopted/).length, 1, 'one line says the instance was adopted');
  assert.equal(events(laterLines, 'instance_started').length, 0, 'the adopted job was not started again');

  assert.deepEqual(events(firstLines, 'twin_restarted'), [], 'the first start of the watchdog is no restart');
  assert.deepEqual(events(firstLines, 'twin_started').map((line) => [line.role, line.pid]), [['watchdog', watchdog]]);
  assert.deepEqual(events(laterLines, 'twin_restarted').map((line) => [line.component, line.role, line.pid]), [['agent-watchdog', 'agent', restarted]]);

  const renderLines = firstLines.filter((line) => line.target === keepalivedConf);
  assert.ok(renderLines.every((line) => line.component === 'agent' && line.host === HOST && line.renderer === 'keepalived'), 'the director role names the agent, the host and itself');
});
