import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { jobPaths, releaseMarkerPath, releasePath } from '../../src/agent/agent-layout.js';
import { activateRelease, activeRelease, pruneReleases, ReleaseSwitchError } from '../../src/agent/switch-release.js';

const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'ygg-switch-'));
after(() => fs.rm(scratch, { recursive: true, force: true }));
const hash = (n: number) => n.toString(16).padStart(64, '0');

let rootCounter = 0;
async function freshRoot(): Promise<string> {
  const root = path.join(scratch, `root-${++rootCounter}`);
  await fs.mkdir(root);
  return root;
}

/** A complete release as prepareRelease leaves it, its marker dated `ageSeconds` ago. */
async function fakeRelease(root: string, specHash: string, ageSeconds: number): Promise<string> {
  const dir = releasePath(root, 'api', specHash);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(releaseMarkerPath(dir), '{}');
  const when = new Date(Date.now() - ageSeconds * 1000);
  await fs.utimes(releaseMarkerPath(dir), when, when);
  return dir;
}

test('activateRelease points current at the release, relatively, and reports the previous one', async () => {
  const root = await freshRoot();
  await fakeRelease(root, hash(1), 10);
  await fakeRelease(root, hash(2), 5);
  assert.equal(await activeRelease(root, 'api'), undefined);
  assert.deepEqual(await activateRelease(root, 'api', hash(1)), {});
  const { current, jobDir } = jobPaths(root, 'api');
  assert.equal(await fs.readlink(current), `releases/${hash(1)}`);
  assert.deepEqual(await activateRelease(root, 'api', hash(2)), { previous: hash(1) });
  assert.equal(await activeRelease(root, 'api'), hash(2));
  assert.equal(await fs.realpath(current), await fs.realpath(releasePath(root, 'api', hash(2))));
  // No temporary link is left beside it.
  assert.deepEqual((await fs.readdir(jobDir)).sort(), ['current', 'releases']);
});

test('activateRelease refuses an incomplete release and a current that is not a symlink', async () => {
  const root = await freshRoot();
  await fakeRelease(root, hash(1), 1);
  await fs.mkdir(releasePath(root, 'api', hash(2)), { recursive: true });
  await assert.rejects(activateRelease(root, 'api', hash(2)), (error: unknown) => error instanceof ReleaseSwitchError && error.code === 'E_RELEASE_NOT_READY');
  await assert.rejects(activateRelease(root, 'api', hash(3)), { code: 'E_RELEASE_NOT_READY' });
  await fs.mkdir(jobPaths(root, 'api').current);
  await assert.rejects(activateRelease(root, 'api', hash(1)), { code: 'E_CURRENT_NOT_SYMLINK' });
});

test('pruneReleases keeps the 3 newest, removes older ones, incomplete ones and leftovers', async () => {
  const root = await freshRoot();
  for (let n = 1; n <= 6; n++) await fakeRelease(root, hash(n), 100 - n * 10); // 6 is the newest
  await activateRelease(root, 'api', hash(6));
  const { releasesDir } = jobPaths(root, 'api');
  await fs.mkdir(path.join(releasesDir, hash(7))); // no marker: a crashed preparation
  await fs.mkdir(path.join(releasesDir, `.${hash(8)}.stage-1-abcd`));
  const removed = await pruneReleases(root, 'api');
  assert.deepEqual(removed, [`.${hash(8)}.stage-1-abcd`, hash(1), hash(2), hash(3), hash(7)].sort());
  assert.deepEqual((await fs.readdir(releasesDir)).sort(), [hash(4), hash(5), hash(6)]);
  assert.deepEqual(await pruneReleases(root, 'api'), []);
});

test('pruneReleases always keeps the active release, even when it is the oldest (after a rollback)', async () => {
  const root = await freshRoot();
  for (let n = 1; n <= 5; n++) await fakeRelease(root, hash(n), 100 - n * 10);
  await activateRelease(root, 'api', hash(1));
  assert.deepEqual(await pruneReleases(root, 'api', 3), [hash(2), hash(3)]);
  assert.deepEqual((await fs.readdir(jobPaths(root, 'api').releasesDir)).sort(), [hash(1), hash(4), hash(5)]);
  assert.deepEqual(await pruneReleases(root, 'api', 1), [hash(4), hash(5)]);
  assert.equal(await activeRelease(root, 'api'), hash(1));
  await assert.rejects(pruneReleases(root, 'api', 0), RangeError);
  assert.deepEqual(await pruneReleases(root, 'never-deployed'), []);
});
