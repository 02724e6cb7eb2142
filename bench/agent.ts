// Agent benchmark with a real etcd and a real `ygg agent` process: how long from an assignment being
// written to the instance healthy and registered in naming, and what an idle agent with 20 instances
// costs (CPU, RSS). Prints figures; not a test.
//
//   npm run build && node --import tsx bench/agent.ts
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEtcd } from '../test/fixtures/etcd-server.js';
import { assignmentRecord } from '../test/fixtures/observed-builder.js';
import { host as hostOf, job as jobOf } from '../test/fixtures/model-builder.js';

import { connectEtcd, EtcdStateStore, keyLayout } from './compiled.js';
import { median } from './synthetic-fleet.js';

const root = path.resolve(import.meta.dirname, '..');
const artifact = path.join(root, 'example-repo/artifacts/echo-server-1.1.0.tar.gz');
const ARTIFACT_SHA256 = '2261519bc9768a921c6a6b2124490fb071aae3b6097f663bddf9069c5c69491f';
const INSTANCES = 20;
const CLK_TCK = 100;

function procStat(pid: number): { cpuSeconds: number; rssMb: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  return { cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLK_TCK, rssMb: rssKb / 1024 };
}

const etcd = await startEtcd();
const agentRoot = mkdtempSync(path.join(tmpdir(), 'ygg-bench-agent-'));
const client = await connectEtcd({ endpoints: [etcd.url] });
const layout = keyLayout('/ygg/v1');
const store = new EtcdStateStore(client, layout);
const host = hostOf('bench-01', { ip: '127.0.0.1' });
const agent = spawn(process.execPath, [path.join(root, 'bin/ygg.js'), 'agent', '--host', host.name, '--root', agentRoot, '--etcd', etcd.url, '--metrics-listen', '127.0.0.1:0', '--no-watchdog', '--log-level', 'warn'], { stdio: 'ignore' });

function assignmentFor(index: number) {
  const port = 20_000 + index;
  const job = jobOf(`bench-${String(index).padStart(2, '0')}`, {
    artifact: { url: `file://${artifact}`, sha256: ARTIFACT_SHA256 },
    command: ['bin/server.js', '--port', '{{ports.http}}'],
    ports: { http: port },
    health: { http: { port: 'http', path: '/health' }, intervalSeconds: 5, timeoutSeconds: 2 },
  });
  const record = assignmentRecord(job, host, { commit: 'bench', assignedAtMs: Date.now(), services: [{ name: `bench.svc${index}`, port: 'http' }] });
  return { record, namingKey: layout.naming(`bench.svc${index}`, host.name, port) };
}

async function waitForKey(key: string, timeoutMs = 20_000): Promise<void> {
  for (const started = Date.now(); Date.now() - started < timeoutMs; await sleep(5)) {
    if ((await store.getJson(key, (value): value is unknown => value !== undefined)).entry) return;
  }
  throw new Error(`timed out waiting for ${key}`);
}

try {
  await sleep(1500); // the agent registers
  const latencies: number[] = [];
  for (let index = 0; index < INSTANCES; index++) {
    const { record, namingKey } = assignmentFor(index);
    const started = performance.now();
    await store.applyBatch([{ put: layout.assignment(host.name, record.job), value: record }]);
    await waitForKey(namingKey);
    latencies.push(performance.now() - started);
  }
  // The job's own start: the echo server's time from spawn to answering /health, measured alone.
  const probeStarted = performance.now();
  const probe = spawn(process.execPath, [path.join(agentRoot, 'jobs/bench-00/current/bin/server.js'), '--port', '29999'], { stdio: 'ignore' });
  for (;;) {
    const ok = await fetch('http://127.0.0.1:29999/health').then((response) => response.ok, () => false);
    if (ok) break;
    await sleep(2);
  }
  const jobStartMs = performance.now() - probeStarted;
  probe.kill();
  console.log(`assignment written → healthy and in naming (${INSTANCES} instances, one at a time): median ${median(latencies).toFixed(0)} ms (min ${Math.min(...latencies).toFixed(0)}, max ${Math.max(...latencies).toFixed(0)}); the job's own start to healthy: ${jobStartMs.toFixed(0)} ms`);
  console.log(`  (the first includes unpacking the artifact; later ones reuse the cached artifact: ${latencies.slice(0, 3).map((ms) => ms.toFixed(0)).join(', ')} ms …)`);

  await sleep(3000);
  const before = procStat(agent.pid!);
  const idleMs = 20_000;
  await sleep(idleMs);
  const afterIdle = procStat(agent.pid!);
  const cpuPercent = ((afterIdle.cpuSeconds - before.cpuSeconds) / (idleMs / 1000)) * 100;
  console.log(`idle agent with ${INSTANCES} instances (health checks every 5 s, the default): ${cpuPercent.toFixed(2)} % of one core over ${idleMs / 1000} s, RSS ${afterIdle.rssMb.toFixed(0)} MB`);
} finally {
  agent.kill('SIGKILL');
  for (const file of readdirSync(path.join(agentRoot, 'run')).filter((name) => name.endsWith('.json') && !name.includes('assignment'))) {
    const { pid } = JSON.parse(readFileSync(path.join(agentRoot, 'run', file), 'utf8')) as { pid?: number };
    if (pid) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  client.close();
  await etcd.stop();
  rmSync(agentRoot, { recursive: true, force: true });
}
