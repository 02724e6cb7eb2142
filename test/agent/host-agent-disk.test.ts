// What an agent leaves on disk over time, with a real etcd, a real `ygg agent` process and real jobs:
// the partial download of an agent killed mid-download is removed when the next agent starts, and
// a job the controller removes takes its releases with it (its data and logs stay).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { artifactCacheDir, jobPaths } from '../../src/agent/agent-layout.js';
import { isPartialDownload } from '../../src/agent/fetch-artifact.js';
import { removalRecord } from '../../src/controller/removal-records.js';
import { agentRootDir, ECHO_ARTIFACT, ECHO_SHA256, echoAssignment, spawnAgent, startAgent, statusOf, tearDownAgentTest, waitForStatus } from '../fixtures/agent-harness.js';
import { FleetView, waitUntil } from '../fixtures/controller-harness.js';
import { freePort, sharedEtcd, uniquePrefix, type SharedEtcd } from '../fixtures/etcd-server.js';

let etcd: SharedEtcd;
let view: FleetView;
let prefix: string;

before(async () => {
  etcd = await sharedEtcd();
  prefix = uniquePrefix('agent-disk');
  view = new FleetView(etcd.url, prefix);
});

after(() => tearDownAgentTest(view, etcd));

const put = (host: string, job: string, value: unknown) => view.store.applyBatch([{ put: view.layout.assignment(host, job), value }]);

async function partialDownloads(root: string): Promise<string[]> {
  return (await fs.readdir(artifactCacheDir(root)).catch(() => [] as string[])).filter(isPartialDownload);
}

test('an agent killed mid-download leaves a partial file; the next agent removes it at start, then deploys', async () => {
  const host = 'disk-a1';
  const root = await agentRootDir();
  const tarball = readFileSync(ECHO_ARTIFACT);
  // The first request stalls halfway (the agent is killed meanwhile); later ones get the whole file.
  let requests = 0;
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-length': tarball.length });
    if (++requests === 1) response.write(tarball.subarray(0, tarball.length >> 1));
    else response.end(tarball);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/echo.tar.gz`;
    const record = echoAssignment(host, 'fetched', { port: await freePort(), spec: { artifact: { url, sha256: ECHO_SHA256 } } });
    await put(host, 'fetched', record);
    const crashed = spawnAgent(['--host', host, '--root', root, '--etcd', etcd.url, '--etcd-prefix', prefix, '--metrics-listen', '127.0.0.1:0', '--lease-ttl', '2s', '--no-watchdog']);
    const [left] = await waitUntil(async () => {
      const partial = await partialDownloads(root);
      return partial.length > 0 ? partial : undefined;
    }, 'a download in progress', 15_000);
    await crashed.kill();
    assert.deepEqual(await partialDownloads(root), [left], 'the killed agent left its partial file');

    const next = await startAgent({ host, root, etcdPrefix: prefix, etcdUrl: etcd.url });
    assert.ok(!existsSync(`${artifactCacheDir(root)}/${left}`), 'removed by start()');
    assert.deepEqual(next.logs.find((line) => line.event === 'partial_downloads_removed')?.['files'], [left]);
    await waitForStatus(view, host, 'fetched', (status) => status.state === 'Healthy' && status.specHash === record.specHash, 'deployed by the next agent', 15_000);
    assert.deepEqual(await partialDownloads(root), []);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test("a removal record takes the job's releases and current link; its data and logs stay", async () => {
  const host = 'disk-a2';
  const root = await agentRootDir();
  await startAgent({ host, root, etcdPrefix: prefix, etcdUrl: etcd.url });
  const record = echoAssignment(host, 'gone', { port: await freePort() });
  await put(host, 'gone', record);
  await waitForStatus(view, host, 'gone', (status) => status.state === 'Healthy' && status.specHash === record.specHash, 'gone Healthy');
  const paths = jobPaths(root, 'gone');
  assert.ok(existsSync(paths.current));

  await put(host, 'gone', removalRecord('gone', 'c2', Date.now()));
  await waitUntil(async () => (await statusOf(view, host, 'gone')) === undefined, 'status deleted', 10_000);
  assert.ok(!existsSync(paths.jobDir), 'releases and current removed');
  assert.ok(existsSync(paths.dataDir) && existsSync(paths.logDir), 'data and logs kept');
  assert.ok(!existsSync(paths.pidFile));
});
