// The chaos suite's detectors must be able to say no: each is shown the thing it looks for, made
// with real parts (processes in /proc, a keepalived.conf checked by keepalived -t, writes in etcd's
// history), and must see it. Runs with `npm test` (the scenarios themselves run in chaos.test.ts).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { sleep } from '../fixtures/controller-harness.js';
import { sharedEtcd, uniquePrefix } from '../fixtures/etcd-server.js';
import { EtcdReader } from './etcd-reader.js';
import { InstanceObserver } from './instance-observer.js';
import { KeepalivedObserver } from './keepalived-observer.js';
import { killEverythingUnder } from './process-table.js';
import { doubledAssignWrites, syncCurrentRegressions } from './scenario-run.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ygg-chaos-observers-'));
after(async () => {
  await killEverythingUnder(dir);
  rmSync(dir, { recursive: true, force: true });
});

const HOST_IP = '127.0.0.109';
const root = path.join(dir, 'root');
const releaseDir = (digit: string) => {
  const release = path.join(root, 'jobs', 'echo', 'releases', digit.repeat(64));
  mkdirSync(path.join(release, 'bin'), { recursive: true });
  writeFileSync(path.join(release, 'bin', 'server.js'), 'setInterval(() => {}, 1000);\n');
  return release;
};
/** A stand-in job process: what /proc shows of an agent's instance (argv, cwd in a release). */
const startJob = (release: string): ChildProcess => spawn(process.execPath, ['bin/server.js', '--host', HOST_IP], { cwd: release, stdio: 'ignore', detached: true });
const stopJob = async (job: ChildProcess) => {
  const exited = new Promise((resolve) => job.once('exit', resolve));
  job.kill('SIGKILL');
  await exited;
};

test('the instance observer counts a restart into a release the host already ran, a second instance, and a lasting shortfall', async () => {
  const observer = new InstanceObserver(dir, new Map([[HOST_IP, root]]), () => 1);
  observer.start();
  try {
    const [releaseA, releaseB] = [releaseDir('a'), releaseDir('b')];
    const first = startJob(releaseA);
    await sleep(400);
    assert.deepEqual(observer.processes().map((job) => [job.hostIp, job.root, job.specHash]), [[HOST_IP, root, 'a'.repeat(64)]]);
    await stopJob(first);
    const again = startJob(releaseA);
    await sleep(400);
    assert.equal(observer.counted().restarts, 1, 'the same release started again: a restart');
    const rolled = startJob(releaseB);
    await sleep(400);
    assert.equal(observer.counted().duplicated, 1, 'two on one host');
    await stopJob(again);
    await sleep(400);
    assert.equal(observer.counted().restarts, 1, 'a release the host never ran is a rollout, not a restart');
    assert.equal(observer.counted().lost, 0);
    await stopJob(rolled);
    await sleep(2000);
    assert.equal(observer.counted().lost, 1, 'none left for longer than the grace');
  } finally {
    observer.stop();
  }
});

const keepalivedConf = (servers: readonly string[]) => `virtual_server 127.0.0.199 80 {
    delay_loop 3
    lb_algo wrr
    lb_kind NAT
    protocol TCP
${servers.map((ip) => `    real_server ${ip} 8080 {\n        weight 1\n        TCP_CHECK {\n            connect_timeout 2\n        }\n    }\n`).join('')}}
`;

test('the keepalived observer finds a real server dropped while the fleet was steady, and a config keepalived rejects', async () => {
  const file = path.join(dir, 'keepalived.conf');
  mkdirSync(path.join(dir, 'scratch'), { recursive: true });
  writeFileSync(file, keepalivedConf(['127.0.0.101', '127.0.0.102']));
  const observer = new KeepalivedObserver(file, path.join(dir, 'scratch'));
  observer.start();
  try {
    await sleep(300);
    writeFileSync(file, keepalivedConf(['127.0.0.101']));
    await sleep(300);
    assert.deepEqual(observer.current(), ['127.0.0.101:8080']);
    writeFileSync(file, 'virtual_server 127.0.0.199 80 {\n    lb_kind BOGUS\n');
    await sleep(300);
  } finally {
    observer.stop();
  }
  const steady = await observer.findings(() => 2, []);
  assert.equal(steady.droppedMax, 2, 'one real server short, then both (the broken file has none)');
  assert.ok(steady.droppedSamples > 0);
  assert.equal(steady.invalidContents.length, 1, `only the broken content is rejected: ${steady.invalidContents.join('; ')}`);
  assert.match(steady.invalidContents[0]!, /keepalived -t/);
  const changing = await observer.findings(() => 2, [Date.now()]);
  assert.equal(changing.droppedMax, 0, 'samples next to a fleet change are not judged');
});

test('etcd history shows an assignment written twice and sync/current going back', async () => {
  const etcd = await sharedEtcd();
  try {
    const prefix = uniquePrefix('chaos-observers');
    const reader = new EtcdReader([etcd.url]);
    const from = (await reader.range(`${prefix}/`)).revision;
    const assignment = (specHash: string, commit: string) => JSON.stringify({ job: 'echo', specHash, commit });
    await reader.put(`${prefix}/assign/web-1/echo`, assignment('a1', 'c1'));
    await reader.put(`${prefix}/assign/web-2/echo`, assignment('a1', 'c1'));
    await reader.put(`${prefix}/assign/web-1/echo`, assignment('a2', 'c2'));
    await reader.put(`${prefix}/assign/web-1/echo`, assignment('a2', 'c2'));
    assert.deepEqual((await doubledAssignWrites(reader, from, prefix)).map((line) => line.split(' ')[0]), ['assign/web-1/echo']);
    for (const sha of ['s1', 's1', 's2', 's1']) await reader.put(`${prefix}/sync/current`, JSON.stringify({ commit: { sha }, result: 'Synced' }));
    assert.equal((await syncCurrentRegressions(reader, from, prefix)).length, 1);
  } finally {
    await etcd.stop();
  }
});
