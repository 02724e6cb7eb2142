// Pruning of cache/artifacts/ on real files, real archives (the example echo-server tarballs) and a
// real HTTP server that stalls: what a preparation is fetching stays, what a rollback needs stays,
// the rest goes, and a crashed download's temporary file is removed at start.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { artifactCacheDir, releaseMarkerPath, releasePath, unpackedCacheDir } from '../../src/agent/agent-layout.js';
import { pruneArtifactCache, removePartialDownloads } from '../../src/agent/artifact-cache.js';
import { isPartialDownload } from '../../src/agent/fetch-artifact.js';
import { prepareRelease, type PrepareReleaseOptions } from '../../src/agent/prepare-release.js';
import { activateRelease, activeRelease, pruneReleases, releaseInputs } from '../../src/agent/switch-release.js';
import { pruneUnpackedTrees, UNUSED_TREE_GRACE_MS } from '../../src/agent/unpacked-artifact.js';
import { computeSpecHash } from '../../src/controller/spec-hash.js';
import type { JobSpec } from '../../src/model/types.js';
import type { AssignmentRecord } from '../../src/store/records.js';

const NEWER = path.resolve('example-repo/artifacts/echo-server-1.1.0.tar.gz');
const NEWER_SHA = '2261519bc9768a921c6a6b2124490fb071aae3b6097f663bddf9069c5c69491f';
const OLDER = path.resolve('example-repo/artifacts/echo-server-1.0.0.tar.gz');
const OLDER_SHA = '64db7fc3531aa00b8fde9630be2b34104af76da188cc54372331d2d76ec2599c';
const TAG = 'cop.xiaomi_owt.miliao_pdl.im_cluster.production-lg_service.mipush_job.dispatcher';
const HOST = { name: 'lg-im-01', ip: '10.1.0.11', labels: { idc: 'lg' } };
/** Past every grace: what only time kept is gone. */
const LATER = () => Date.now() + UNUSED_TREE_GRACE_MS + 1000;

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'ygg-artifact-cache-'));
after(() => fs.rm(scratch, { recursive: true, force: true }));

let counter = 0;
async function freshDir(name: string): Promise<string> {
  const dir = path.join(scratch, `${name}-${++counter}`);
  await fs.mkdir(dir);
  return dir;
}

/** A version of the job: an artifact (by file URL) and one dictionary, both named by their digest. */
function version(artifact: { file: string; sha256: string }, dictionary: { url: string; sha256: string }): AssignmentRecord {
  const spec: JobSpec = {
    version: dictionary.sha256.slice(0, 8),
    artifact: { url: pathToFileURL(artifact.file).href, sha256: artifact.sha256 },
    command: ['bin/server.js'],
    env: {},
    ports: { http: 8080 },
    configs: [],
    dependencies: [{ path: 'dict/words.txt', url: dictionary.url, sha256: dictionary.sha256 }],
    cron: [],
    rollout: { maxParallel: 1, minHealthySeconds: 10, autoRevert: true, progressDeadlineSeconds: 300, drainSeconds: 2 },
  };
  return { job: 'dispatcher', tag: TAG, host: HOST, spec, specHash: computeSpecHash('dispatcher', TAG, HOST, spec), commit: 'c0ffee', assignedAt: '2024-01-01T00:00:00Z' };
}

/** Sources come from their own URLs; `offline` makes every fetch fail (nothing may be downloaded). */
function options(root: string, offline = false): PrepareReleaseOptions {
  return { root, fetchUrl: (source) => (offline ? pathToFileURL('/nonexistent').href : source.url!) };
}

async function dictionary(dir: string, words: string): Promise<{ url: string; sha256: string }> {
  const file = path.join(dir, `${sha256(words)}.txt`);
  await fs.writeFile(file, words);
  return { url: pathToFileURL(file).href, sha256: sha256(words) };
}

/** Deploys as the agent does: prepare, switch, prune releases (3 kept). */
async function deploy(root: string, record: AssignmentRecord, prepareOptions = options(root)): Promise<void> {
  await prepareRelease(record, prepareOptions);
  await activateRelease(root, 'dispatcher', record.specHash);
  await pruneReleases(root, 'dispatcher');
}

/** Files of the artifact cache, without the verification stamps. */
async function cached(root: string): Promise<string[]> {
  return (await fs.readdir(artifactCacheDir(root))).filter((name) => !name.endsWith('.verified')).sort();
}

/** An HTTP server that sends the first half of `body`, then stalls until `finish()`. */
async function stallingServer(body: Buffer): Promise<{ url: string; requested: Promise<void>; finish: () => void; close: () => Promise<void> }> {
  let arrived!: () => void;
  const requested = new Promise<void>((resolve) => (arrived = resolve));
  let finish!: () => void;
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-length': body.length });
    response.write(body.subarray(0, body.length >> 1), () => arrived());
    finish = () => response.end(body.subarray(body.length >> 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/words.txt`,
    requested,
    finish: () => finish(),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('pruning while a download stalls removes neither the partial file nor the tarball the preparation holds; afterwards the tarball goes, the dictionary stays', async () => {
  const root = await freshDir('root');
  const sources = await freshDir('sources');
  // A stale tarball no release needs: pruning during the stall does run and removes it.
  await deploy(root, version({ file: OLDER, sha256: OLDER_SHA }, await dictionary(sources, 'old\n')));
  await fs.rm(releasePath(root, 'dispatcher', (await activeRelease(root, 'dispatcher'))!), { recursive: true });
  const words = Buffer.from('alpha\n'.repeat(50_000));
  const server = await stallingServer(words);
  try {
    const record = version({ file: NEWER, sha256: NEWER_SHA }, { url: server.url, sha256: sha256(words) });
    const preparing = prepareRelease(record, options(root));
    await server.requested;
    // The first half is on its way into the temporary file.
    let partial: string[] = [];
    for (let tries = 0; partial.length === 0 && tries < 200; tries += 1) {
      partial = (await fs.readdir(artifactCacheDir(root))).filter(isPartialDownload);
      if (partial.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(partial.length, 1, 'the dictionary is being downloaded');

    // NEWER's tree is unpacked, so its tarball is no rollback's need: only the hold keeps it now.
    assert.deepEqual(await pruneArtifactCache(root, LATER()), [OLDER_SHA, sha256('old\n')].sort());
    assert.deepEqual(await cached(root), [NEWER_SHA, ...partial].sort());

    server.finish();
    const prepared = await preparing;
    assert.equal((await fs.readFile(path.join(prepared.releaseDir, 'dict/words.txt'))).equals(words), true);
    assert.deepEqual(await pruneArtifactCache(root, LATER()), [NEWER_SHA]);
    assert.deepEqual(await cached(root), [sha256(words)], 'the release on disk keeps its dictionary');
  } finally {
    await server.close();
  }
});

test('after pruning, a rollback to a release on disk rebuilds (after a reboot) with nothing to download; one to a pruned release fetches again', async () => {
  const root = await freshDir('root');
  const sources = await freshDir('sources');
  const versions = [
    version({ file: OLDER, sha256: OLDER_SHA }, await dictionary(sources, 'v1\n')),
    version({ file: OLDER, sha256: OLDER_SHA }, await dictionary(sources, 'v2\n')),
    version({ file: NEWER, sha256: NEWER_SHA }, await dictionary(sources, 'v3\n')),
    version({ file: NEWER, sha256: NEWER_SHA }, await dictionary(sources, 'v4\n')),
  ] as const;
  for (const record of versions) await deploy(root, record);
  // v2..v4 are on disk (3 kept); v1 is not.
  assert.deepEqual(await pruneUnpackedTrees(unpackedCacheDir(root), (await releaseInputs(root)).artifacts, LATER()), []);
  assert.deepEqual(await pruneArtifactCache(root, LATER()), [NEWER_SHA, OLDER_SHA, sha256('v1\n')].sort());
  assert.deepEqual(await cached(root), [sha256('v2\n'), sha256('v3\n'), sha256('v4\n')].sort());

  // A reboot since v2 was built: its release is rebuilt, from the OLDER tree and the cached dictionary alone.
  const v2 = versions[1];
  const marker = releaseMarkerPath(releasePath(root, 'dispatcher', v2.specHash));
  await fs.writeFile(marker, JSON.stringify({ ...JSON.parse(await fs.readFile(marker, 'utf8')), bootId: 'an-earlier-boot' }));
  const rebuilt = await prepareRelease(v2, options(root, true));
  assert.equal(rebuilt.reused, false);
  assert.equal(await fs.readFile(path.join(rebuilt.releaseDir, 'dict/words.txt'), 'utf8'), 'v2\n');
  assert.match(await fs.readFile(path.join(rebuilt.releaseDir, 'package.json'), 'utf8'), /"version": "1.0.0"/);
  await activateRelease(root, 'dispatcher', v2.specHash);

  // v1 left the host: rolling back to it downloads what it needs again.
  await assert.rejects(prepareRelease(versions[0], options(root, true)), { code: 'E_ARTIFACT_FETCH' });
  const refetched = await prepareRelease(versions[0], options(root));
  assert.equal(await fs.readFile(path.join(refetched.releaseDir, 'dict/words.txt'), 'utf8'), 'v1\n');
});

test('a release whose marker does not list its dependencies (an older agent) keeps the whole cache; a stamp without its file goes', async () => {
  const root = await freshDir('root');
  const sources = await freshDir('sources');
  const record = version({ file: NEWER, sha256: NEWER_SHA }, await dictionary(sources, 'legacy\n'));
  await deploy(root, record);
  const marker = releaseMarkerPath(releasePath(root, 'dispatcher', record.specHash));
  const { dependencySha256s: _listed, ...older } = JSON.parse(await fs.readFile(marker, 'utf8')) as Record<string, unknown>;
  await fs.writeFile(marker, JSON.stringify(older));
  assert.deepEqual(await pruneArtifactCache(root, LATER()), []);
  assert.deepEqual(await cached(root), [NEWER_SHA, sha256('legacy\n')].sort());

  await fs.writeFile(marker, JSON.stringify({ ...older, dependencySha256s: [sha256('legacy\n')] }));
  await fs.rm(path.join(artifactCacheDir(root), sha256('legacy\n')));
  assert.deepEqual(await pruneArtifactCache(root, LATER()), [NEWER_SHA]);
  assert.deepEqual(await fs.readdir(artifactCacheDir(root)), [], 'the orphaned stamp went too');
});

test('removePartialDownloads removes only the temporary files of downloads', async () => {
  const root = await freshDir('root');
  const cacheDir = artifactCacheDir(root);
  assert.deepEqual(await removePartialDownloads(root), [], 'no cache yet');
  await fs.mkdir(cacheDir, { recursive: true });
  const partial = `.${NEWER_SHA}.4242.1.partial`;
  for (const name of [partial, NEWER_SHA, `${NEWER_SHA}.verified`]) await fs.writeFile(path.join(cacheDir, name), 'x');
  assert.deepEqual(await removePartialDownloads(root), [partial]);
  assert.deepEqual((await fs.readdir(cacheDir)).sort(), [NEWER_SHA, `${NEWER_SHA}.verified`]);
});
