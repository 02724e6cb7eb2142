import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tar from 'tar';
import { artifactCacheDir, jobPaths, releaseMarkerPath, releasePath, unpackedCacheDir } from '../../src/agent/agent-layout.js';
import { ArtifactDigestError } from '../../src/agent/fetch-artifact.js';
import { prepareRelease, readReleaseMarker, ReleaseSpecError, type PrepareReleaseOptions } from '../../src/agent/prepare-release.js';
import { activateRelease, activeRelease, pruneReleases, releaseInputs } from '../../src/agent/switch-release.js';
import { ArchiveUnpackError, UnsafeArchiveError } from '../../src/agent/unpack-archive.js';
import { pruneUnpackedTrees, UNUSED_TREE_GRACE_MS } from '../../src/agent/unpacked-artifact.js';
import { computeSpecHash } from '../../src/controller/spec-hash.js';
import type { Artifact, DependencyFile, JobSpec } from '../../src/model/types.js';
import { TemplateRenderError } from '../../src/plan/render-instance.js';
import type { AssignmentRecord } from '../../src/store/records.js';

const EXAMPLE = path.resolve('example-repo/artifacts/echo-server-1.1.0.tar.gz');
const EXAMPLE_SHA = '2261519bc9768a921c6a6b2124490fb071aae3b6097f663bddf9069c5c69491f';
const OLDER = path.resolve('example-repo/artifacts/echo-server-1.0.0.tar.gz');
const OLDER_SHA = '64db7fc3531aa00b8fde9630be2b34104af76da188cc54372331d2d76ec2599c';
const BOOT_ID = (await fs.readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
const TAG = 'cop.xiaomi_owt.miliao_pdl.im_cluster.production-lg_service.mipush_job.dispatcher';
const HOST = { name: 'lg-im-01', ip: '10.1.0.11', labels: { idc: 'lg' } };
const APP_TEMPLATE = 'listen: {{host.ip}}:{{ports.http}}\nrelease: {{dirs.release}}\ndata: {{dirs.data}}\nlog: {{dirs.log}}\n';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'ygg-prepare-'));
after(() => fs.rm(scratch, { recursive: true, force: true }));

let rootCounter = 0;
async function freshRoot(): Promise<string> {
  const root = path.join(scratch, `root-${++rootCounter}`);
  await fs.mkdir(root);
  return root;
}

function assignment(spec: Partial<JobSpec> = {}): AssignmentRecord {
  const full: JobSpec = {
    version: '1.1.0',
    artifact: { path: 'artifacts/echo-server-1.1.0.tar.gz', sha256: EXAMPLE_SHA },
    command: ['bin/server.js', '--port', '{{ports.http}}'],
    env: {},
    ports: { http: 8080 },
    configs: [{ path: 'conf/app.yaml', mode: '0600', template: APP_TEMPLATE }],
    dependencies: [],
    cron: [],
    rollout: { maxParallel: 1, minHealthySeconds: 10, autoRevert: true, progressDeadlineSeconds: 300, drainSeconds: 2 },
    ...spec,
  };
  return { job: 'dispatcher', tag: TAG, host: HOST, spec: full, specHash: computeSpecHash('dispatcher', TAG, HOST, full), commit: 'c0ffee', assignedAt: '2024-01-01T00:00:00Z' };
}

/** Repo paths resolve to files of this directory (standing in for the controller's content). */
function fileOptions(root: string, files: Record<string, string> = {}): PrepareReleaseOptions {
  const bySha = new Map<string, string>([[EXAMPLE_SHA, EXAMPLE], ...Object.entries(files)]);
  return {
    root,
    fetchUrl: (source: Artifact | DependencyFile) => source.url ?? pathToFileURL(bySha.get(source.sha256) ?? '/nonexistent').href,
  };
}

async function releaseNames(root: string): Promise<string[]> {
  return (await fs.readdir(jobPaths(root, 'dispatcher').releasesDir).catch(() => [] as string[])).sort();
}

test('happy path: the example release lands, configured for this host, and re-preparing is a no-op', async () => {
  const root = await freshRoot();
  const words = path.join(scratch, 'words.txt');
  await fs.writeFile(words, 'alpha\nbeta\n');
  const record = assignment({ dependencies: [{ path: 'dict/words.txt', source: 'files/words.txt', sha256: sha256('alpha\nbeta\n') }] });
  const options = fileOptions(root, { [sha256('alpha\nbeta\n')]: words });

  const prepared = await prepareRelease(record, options);
  const paths = jobPaths(root, 'dispatcher');
  assert.equal(prepared.releaseDir, releasePath(root, 'dispatcher', record.specHash));
  assert.equal(prepared.reused, false);
  const dir = prepared.releaseDir;
  assert.equal((await fs.stat(path.join(dir, 'bin/server.js'))).mode & 0o777, 0o755);
  assert.match(await fs.readFile(path.join(dir, 'package.json'), 'utf8'), /"version": "1.1.0"/);
  const config = await fs.readFile(path.join(dir, 'conf/app.yaml'), 'utf8');
  assert.equal(config, `listen: 10.1.0.11:8080\nrelease: ${paths.current}\ndata: ${paths.dataDir}\nlog: ${paths.logDir}\n`);
  assert.equal((await fs.stat(path.join(dir, 'conf/app.yaml'))).mode & 0o777, 0o600);
  assert.equal(await fs.readFile(path.join(dir, 'dict/words.txt'), 'utf8'), 'alpha\nbeta\n');
  assert.equal((await fs.stat(path.join(dir, 'dict/words.txt'))).mode & 0o777, 0o644);
  assert.ok((await fs.stat(paths.dataDir)).isDirectory());
  assert.ok((await fs.stat(paths.logDir)).isDirectory());
  assert.deepEqual(prepared.rendered.command, ['bin/server.js', '--port', '8080']);
  assert.deepEqual(prepared.rendered.configs, [{ path: 'conf/app.yaml', mode: '0600', content: config }]);
  const marker = await readReleaseMarker(dir);
  assert.deepEqual({ ...marker, preparedAt: undefined }, { job: 'dispatcher', specHash: record.specHash, version: '1.1.0', artifactSha256: EXAMPLE_SHA, dependencySha256s: [sha256('alpha\nbeta\n')], commit: 'c0ffee', preparedAt: undefined, bootId: BOOT_ID });

  await activateRelease(root, 'dispatcher', record.specHash);
  assert.equal(await fs.realpath(paths.current), await fs.realpath(dir));

  const configStat = await fs.stat(path.join(dir, 'conf/app.yaml'));
  const again = await prepareRelease(record, options);
  assert.equal(again.reused, true);
  assert.deepEqual(again.rendered, prepared.rendered);
  assert.equal((await fs.stat(path.join(dir, 'conf/app.yaml'))).mtimeMs, configStat.mtimeMs);
  assert.deepEqual(await releaseNames(root), [record.specHash]);
});

test('a release directory without its marker (a crash mid-way) is rebuilt, not reused', async () => {
  const root = await freshRoot();
  const record = assignment();
  const dir = releasePath(root, 'dispatcher', record.specHash);
  await fs.mkdir(path.join(dir, 'bin'), { recursive: true });
  await fs.writeFile(path.join(dir, 'bin/half-written'), '');
  const prepared = await prepareRelease(record, fileOptions(root));
  assert.equal(prepared.reused, false);
  assert.deepEqual((await fs.readdir(path.join(dir, 'bin'))).sort(), ['server.js']);
  assert.equal((await readReleaseMarker(dir))?.specHash, record.specHash);
});

test('wrong artifact sha256: ArtifactDigestError and nothing in releases/', async () => {
  const root = await freshRoot();
  const wrong = 'f'.repeat(64);
  const record = assignment({ artifact: { url: pathToFileURL(EXAMPLE).href, sha256: wrong } });
  await assert.rejects(prepareRelease(record, fileOptions(root)), (error: unknown) => {
    assert.ok(error instanceof ArtifactDigestError);
    assert.deepEqual([error.expected, error.actual], [wrong, EXAMPLE_SHA]);
    return true;
  });
  assert.deepEqual(await releaseNames(root), []);
});

test('wrong dependency sha256: ArtifactDigestError and nothing in releases/', async () => {
  const root = await freshRoot();
  const words = path.join(scratch, 'words-bad.txt');
  await fs.writeFile(words, 'changed');
  const record = assignment({ dependencies: [{ path: 'dict/words.txt', url: pathToFileURL(words).href, sha256: sha256('original') }] });
  await assert.rejects(prepareRelease(record, fileOptions(root)), ArtifactDigestError);
  assert.deepEqual(await releaseNames(root), []);
});

test('an archive with ../evil: UnsafeArchiveError and nothing unpacked', async () => {
  const root = await freshRoot();
  const header = new tar.Header({ path: '../evil', type: 'File', mode: 0o644, size: 0, mtime: new Date(0) });
  header.encode();
  const archive = path.join(scratch, 'evil.tar');
  await fs.writeFile(archive, Buffer.concat([header.block!, Buffer.alloc(1024)]));
  const record = assignment({ artifact: { url: pathToFileURL(archive).href, sha256: sha256(await fs.readFile(archive)) } });
  await assert.rejects(prepareRelease(record, fileOptions(root)), (error: unknown) => error instanceof UnsafeArchiveError && error.entries[0]!.path === '../evil');
  assert.deepEqual(await releaseNames(root), []);
  await assert.rejects(fs.stat(path.join(jobPaths(root, 'dispatcher').jobDir, 'evil')), { code: 'ENOENT' });
});

test('a template with {{host.nope}}: TemplateRenderError, nothing fetched or written, current unchanged', async () => {
  const root = await freshRoot();
  const good = assignment();
  await prepareRelease(good, fileOptions(root));
  await activateRelease(root, 'dispatcher', good.specHash);
  const bad = assignment({ configs: [{ path: 'conf/app.yaml', template: 'listen: {{host.nope}}\n' }] });
  let fetched = 0;
  const options = { root, fetchUrl: () => { fetched++; return pathToFileURL(EXAMPLE).href; } };
  await assert.rejects(prepareRelease(bad, options), (error: unknown) => {
    assert.ok(error instanceof TemplateRenderError);
    assert.equal(error.where, 'conf/app.yaml');
    return true;
  });
  assert.equal(fetched, 0);
  assert.equal(await activeRelease(root, 'dispatcher'), good.specHash);
  assert.deepEqual(await releaseNames(root), [good.specHash]);
});

test('config and dependency paths must stay inside the release; all problems are reported', async () => {
  const root = await freshRoot();
  const record = assignment({
    configs: [
      { path: '../outside.yaml', template: 'x' },
      { path: '/etc/passwd', template: 'x' },
      { path: 'conf/a.yaml', template: 'x', mode: 'rw-r--r--' },
    ],
    dependencies: [{ path: 'conf/../../x', url: 'file:///dev/null', sha256: 'a'.repeat(64) }],
  });
  await assert.rejects(prepareRelease(record, fileOptions(root)), (error: unknown) => {
    assert.ok(error instanceof ReleaseSpecError);
    assert.equal(error.code, 'E_RELEASE_SPEC');
    assert.equal(error.problems.length, 4, error.message);
    return true;
  });
  assert.deepEqual(await releaseNames(root), []);
});

test('http artifact: fetched once into the cache; a later release of the same artifact makes no request', async () => {
  const body = await fs.readFile(EXAMPLE);
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    requests.push(request.url ?? '');
    if (request.url === `/content/${EXAMPLE_SHA}`) response.writeHead(200).end(body);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const controllerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const root = await freshRoot();
    const options: PrepareReleaseOptions = { root, fetchUrl: (source) => source.url ?? `${controllerUrl}/content/${source.sha256}` };
    const first = assignment();
    await prepareRelease(first, options);
    assert.deepEqual(await prepareRelease(first, options).then((prepared) => prepared.reused), true);
    const second = assignment({ env: { LOG_LEVEL: 'debug' } });
    assert.notEqual(second.specHash, first.specHash);
    const prepared = await prepareRelease(second, options);
    assert.equal(prepared.reused, false);
    assert.ok((await fs.stat(path.join(prepared.releaseDir, 'bin/server.js'))).isFile());
    assert.deepEqual(requests, [`/content/${EXAMPLE_SHA}`]);
    assert.deepEqual(await releaseNames(root), [first.specHash, second.specHash].sort());
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('disk full while unpacking: typed error, the active release intact, no temporary directories', async (t) => {
  const root = path.join(scratch, 'tiny');
  await fs.mkdir(root);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', root], { stdio: 'pipe' });
  } catch (error) {
    t.skip(`cannot mount a 256k tmpfs to fill up (${String((error as Error).message).split('\n')[0]}): disk-full case not exercised`);
    return;
  }
  try {
    const old = assignment();
    await prepareRelease(old, fileOptions(root));
    await activateRelease(root, 'dispatcher', old.specHash);
    // 4 MB of zeros compress to a few KB: the artifact fits in the cache, its contents do not.
    const stage = path.join(scratch, 'big');
    await fs.mkdir(path.join(stage, 'bin'), { recursive: true });
    await fs.writeFile(path.join(stage, 'bin/server.js'), 'console.log(1)\n');
    await fs.writeFile(path.join(stage, 'blob.bin'), Buffer.alloc(4 * 1024 * 1024));
    const archive = path.join(scratch, 'big.tar.gz');
    await tar.c({ gzip: true, file: archive, cwd: stage }, ['bin', 'blob.bin']);
    const big = assignment({ version: '2.0.0', artifact: { url: pathToFileURL(archive).href, sha256: sha256(await fs.readFile(archive)) } });

    await assert.rejects(prepareRelease(big, fileOptions(root)), (error: unknown) => {
      assert.ok(error instanceof ArchiveUnpackError, String(error));
      assert.deepEqual([error.code, error.retryable], ['E_DISK_FULL', true]);
      return true;
    });
    assert.equal(await activeRelease(root, 'dispatcher'), old.specHash);
    // Listed with dot entries: no staging or unpack directory is left behind.
    assert.deepEqual(await releaseNames(root), [old.specHash]);
    assert.ok((await fs.readdir(artifactCacheDir(root))).every((name) => !name.endsWith('.partial')));
    const config = await fs.readFile(path.join(jobPaths(root, 'dispatcher').current, 'conf/app.yaml'), 'utf8');
    assert.match(config, /^listen: 10\.1\.0\.11:8080$/m);
    assert.equal(sha256(await fs.readFile(path.join(jobPaths(root, 'dispatcher').current, 'bin/server.js'))), sha256(await readFromExample('bin/server.js')));
  } finally {
    execFileSync('umount', [root]);
  }
});

/** One file of the example tarball, read with node-tar. */
async function readFromExample(entryPath: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await tar.t({ file: EXAMPLE, onReadEntry: (entry) => { if (entry.path === entryPath) entry.on('data', (chunk: Buffer) => chunks.push(chunk)); else entry.resume(); } });
  return Buffer.concat(chunks);
}

test('the artifact is unpacked once per host: a later release of it needs neither the tarball nor a fetch', async () => {
  const root = await freshRoot();
  const first = await prepareRelease(assignment(), fileOptions(root));
  await fs.rm(path.join(artifactCacheDir(root), EXAMPLE_SHA));
  const second = assignment({ env: { LOG_LEVEL: 'debug' } });
  const prepared = await prepareRelease(second, { root, fetchUrl: () => pathToFileURL('/nonexistent').href });
  assert.equal(prepared.reused, false);
  for (const file of ['bin/server.js', 'package.json']) {
    assert.deepEqual(await fs.readFile(path.join(prepared.releaseDir, file)), await readFromExample(file));
    const [copy, original] = await Promise.all([fs.stat(path.join(prepared.releaseDir, file)), fs.stat(path.join(first.releaseDir, file))]);
    assert.equal(copy.mode, original.mode, `${file}: mode`);
    // The archive's times, as unpacking gave them (the example's entries say 1970-01-01).
    assert.equal(copy.mtimeMs, 0, `${file}: mtime`);
  }
  assert.equal((await fs.stat(path.join(prepared.releaseDir, 'bin'))).mode & 0o777, 0o755);
});

test('a job writing into its release changes neither the unpacked tree nor another release', async () => {
  const root = await freshRoot();
  const first = await prepareRelease(assignment(), fileOptions(root));
  await fs.appendFile(path.join(first.releaseDir, 'bin/server.js'), 'tampered\n');
  await fs.writeFile(path.join(first.releaseDir, 'bin/extra.txt'), 'written by the job\n');
  const second = await prepareRelease(assignment({ env: { LOG_LEVEL: 'debug' } }), fileOptions(root));
  const tree = path.join(unpackedCacheDir(root), EXAMPLE_SHA);
  for (const dir of [tree, second.releaseDir]) {
    assert.deepEqual(await fs.readFile(path.join(dir, 'bin/server.js')), await readFromExample('bin/server.js'), dir);
    assert.deepEqual((await fs.readdir(path.join(dir, 'bin'))).sort(), ['server.js'], dir);
  }
  assert.notEqual((await fs.stat(path.join(second.releaseDir, 'bin/server.js'))).ino, (await fs.stat(path.join(tree, 'bin/server.js'))).ino);
});

test('a release from an earlier boot is rebuilt (its unflushed files may be torn); an older agent\'s marker is trusted', async () => {
  const root = await freshRoot();
  const record = assignment();
  const { releaseDir } = await prepareRelease(record, fileOptions(root));
  const markerFile = releaseMarkerPath(releaseDir);
  const marker = JSON.parse(await fs.readFile(markerFile, 'utf8')) as Record<string, unknown>;
  // What a power cut can leave: the marker renamed in, a file's data never written.
  await fs.writeFile(path.join(releaseDir, 'bin/server.js'), '');
  await fs.writeFile(markerFile, JSON.stringify({ ...marker, bootId: 'an-earlier-boot' }));
  const rebuilt = await prepareRelease(record, fileOptions(root));
  assert.equal(rebuilt.reused, false);
  assert.deepEqual(await fs.readFile(path.join(releaseDir, 'bin/server.js')), await readFromExample('bin/server.js'));
  assert.equal((await readReleaseMarker(releaseDir))?.bootId, BOOT_ID);
  assert.equal((await prepareRelease(record, fileOptions(root))).reused, true);

  const { bootId: _dropped, ...older } = JSON.parse(await fs.readFile(markerFile, 'utf8')) as Record<string, unknown>;
  await fs.writeFile(markerFile, JSON.stringify(older));
  assert.equal((await prepareRelease(record, fileOptions(root))).reused, true);
});

test('a tree that lost a file fails the deploy (retryable) once, then is unpacked again', async () => {
  const root = await freshRoot();
  await prepareRelease(assignment(), fileOptions(root));
  await fs.rm(path.join(unpackedCacheDir(root), EXAMPLE_SHA, 'package.json'));
  const second = assignment({ env: { LOG_LEVEL: 'debug' } });
  await assert.rejects(prepareRelease(second, fileOptions(root)), (error: unknown) => {
    assert.ok(error instanceof ArchiveUnpackError, String(error));
    assert.deepEqual([error.code, error.retryable], ['E_UNPACK_FAILED', true]);
    return true;
  });
  assert.deepEqual((await releaseNames(root)).filter((name) => name.startsWith('.')), []);
  const prepared = await prepareRelease(second, fileOptions(root));
  assert.deepEqual(await fs.readFile(path.join(prepared.releaseDir, 'package.json')), await readFromExample('package.json'));
});

test('unpacked trees: kept while a release uses them or within the grace, then pruned with leftovers', async () => {
  const root = await freshRoot();
  const cache = unpackedCacheDir(root);
  const older = assignment({ version: '1.0.0', artifact: { url: pathToFileURL(OLDER).href, sha256: OLDER_SHA } });
  await prepareRelease(older, fileOptions(root));
  const current = assignment();
  await prepareRelease(current, fileOptions(root));
  await activateRelease(root, 'dispatcher', current.specHash);
  // Leftovers of a crash: an unpack cut short, a tree without its manifest, a manifest without its tree.
  await fs.mkdir(path.join(cache, `.${'c'.repeat(64)}.unpack-1-00000000`));
  await fs.mkdir(path.join(cache, 'd'.repeat(64)));
  await fs.writeFile(path.join(cache, `${'e'.repeat(64)}.json`), '{}');
  assert.deepEqual([...(await releaseInputs(root)).artifacts].sort(), [OLDER_SHA, EXAMPLE_SHA].sort());

  const later = Date.now() + UNUSED_TREE_GRACE_MS + 1000;
  assert.deepEqual(await pruneUnpackedTrees(cache, (await releaseInputs(root)).artifacts), []);
  assert.deepEqual(await pruneUnpackedTrees(cache, (await releaseInputs(root)).artifacts, later), [`.${'c'.repeat(64)}.unpack-1-00000000`, 'd'.repeat(64)]);
  assert.deepEqual(await pruneReleases(root, 'dispatcher', 1), [older.specHash]);
  assert.deepEqual(await pruneUnpackedTrees(cache, (await releaseInputs(root)).artifacts), []);
  assert.deepEqual(await pruneUnpackedTrees(cache, (await releaseInputs(root)).artifacts, later), [OLDER_SHA]);
  assert.deepEqual((await fs.readdir(cache)).sort(), [EXAMPLE_SHA, `${EXAMPLE_SHA}.json`]);
});

test('a tree a preparation holds is not pruned while it fetches a slow dependency, whatever the grace', async () => {
  const root = await freshRoot();
  const cache = unpackedCacheDir(root);
  const older = assignment({ version: '1.0.0', artifact: { url: pathToFileURL(OLDER).href, sha256: OLDER_SHA } });
  await prepareRelease(older, fileOptions(root));
  // No release names the tree any more: only the preparation below holds it.
  await fs.rm(jobPaths(root, 'dispatcher').releasesDir, { recursive: true });
  let arrived!: () => void;
  const requested = new Promise<void>((resolve) => (arrived = resolve));
  let answer!: () => void;
  const server = http.createServer((_request, response) => {
    arrived();
    answer = () => response.writeHead(200).end('words');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/words`;
    const slow = assignment({ ...older.spec, dependencies: [{ path: 'dict/words.txt', url, sha256: sha256('words') }] });
    const preparing = prepareRelease(slow, fileOptions(root));
    await requested;
    // Another job's new unpack prunes now, long after the tree was last touched.
    const later = Date.now() + UNUSED_TREE_GRACE_MS + 1000;
    assert.deepEqual(await pruneUnpackedTrees(cache, (await releaseInputs(root)).artifacts, later), []);
    answer();
    const prepared = await preparing;
    assert.deepEqual(await fs.readFile(path.join(prepared.releaseDir, 'dict/words.txt'), 'utf8'), 'words');
    // Let go once built: with its release gone too, the tree is pruned.
    await fs.rm(jobPaths(root, 'dispatcher').releasesDir, { recursive: true });
    assert.deepEqual(await pruneUnpackedTrees(cache, (await releaseInputs(root)).artifacts, later), [OLDER_SHA]);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('directories deleted by hand after a deploy (data, log, releases/) are made again by the next one', async () => {
  const root = await freshRoot();
  await prepareRelease(assignment(), fileOptions(root));
  const paths = jobPaths(root, 'dispatcher');
  for (const dir of [paths.dataDir, paths.logDir, paths.releasesDir]) await fs.rm(dir, { recursive: true });
  const prepared = await prepareRelease(assignment({ env: { LOG_LEVEL: 'debug' } }), fileOptions(root));
  assert.equal(prepared.reused, false);
  for (const dir of [paths.dataDir, paths.logDir]) assert.ok((await fs.stat(dir)).isDirectory(), dir);
  assert.equal((await readReleaseMarker(prepared.releaseDir))?.specHash, prepared.releaseDir.split('/').pop());
});

test('with a symlink in the tree, a config whose directory resolves outside the release is refused', async () => {
  const root = await freshRoot();
  await prepareRelease(assignment(), fileOptions(root));
  // The cached tree edited by hand: its `conf` becomes a link out of the release.
  const outside = path.join(scratch, `outside-${rootCounter}`);
  await fs.mkdir(outside);
  const manifestFile = `${path.join(unpackedCacheDir(root), EXAMPLE_SHA)}.json`;
  const manifest = JSON.parse(await fs.readFile(manifestFile, 'utf8')) as { entries: unknown[] };
  manifest.entries.push({ path: 'conf', type: 'symlink', mode: 0o777, target: outside });
  await fs.writeFile(manifestFile, JSON.stringify(manifest));
  await fs.symlink(outside, path.join(unpackedCacheDir(root), EXAMPLE_SHA, 'conf'));
  await assert.rejects(prepareRelease(assignment({ env: { LOG_LEVEL: 'debug' } }), fileOptions(root)), (error: unknown) => error instanceof ReleaseSpecError && /resolves outside the release/.test(error.message));
  assert.deepEqual(await fs.readdir(outside), []);
});
