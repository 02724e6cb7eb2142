import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentLayoutError, artifactCacheDir, jobPaths, releaseMarkerPath, releasePath } from '../../src/agent/agent-layout.js';
import { instanceDirs } from '../../src/plan/render-instance.js';

const HASH = 'ab'.repeat(32);

test('lays a job out under the root, with the same paths the templates see', () => {
  const paths = jobPaths('/srv/ygg/', 'dispatcher');
  assert.deepEqual(paths, {
    jobDir: '/srv/ygg/jobs/dispatcher',
    releasesDir: '/srv/ygg/jobs/dispatcher/releases',
    current: '/srv/ygg/jobs/dispatcher/current',
    dataDir: '/srv/ygg/data/dispatcher',
    logDir: '/srv/ygg/log/dispatcher',
    pidFile: '/srv/ygg/run/dispatcher.json',
  });
  const dirs = instanceDirs('/srv/ygg', 'dispatcher');
  assert.deepEqual([paths.current, paths.dataDir, paths.logDir], [dirs.release, dirs.data, dirs.log]);
  assert.equal(releasePath('/srv/ygg', 'dispatcher', HASH), `/srv/ygg/jobs/dispatcher/releases/${HASH}`);
  assert.equal(releaseMarkerPath('/r/x'), '/r/x/.ygg-release.json');
  assert.equal(artifactCacheDir('/srv/ygg'), '/srv/ygg/cache/artifacts');
});

test('refuses names that could leave the root', () => {
  for (const job of ['../etc', 'a/b', 'A', 'a.b', '', '-a', 'a-', 'x'.repeat(64)]) {
    assert.throws(() => jobPaths('/srv/ygg', job), (error: unknown) => error instanceof AgentLayoutError && error.code === 'E_AGENT_LAYOUT' && error.field === 'job', job);
  }
  assert.doesNotThrow(() => jobPaths('/srv/ygg', 'x'.repeat(63)));
  for (const hash of ['..', 'AB'.repeat(32), 'ab'.repeat(31), `${'ab'.repeat(31)}/x`]) {
    assert.throws(() => releasePath('/srv/ygg', 'api', hash), (error: unknown) => error instanceof AgentLayoutError && error.field === 'specHash', hash);
  }
  assert.throws(() => jobPaths('srv/ygg', 'api'), (error: unknown) => error instanceof AgentLayoutError && error.field === 'root');
});
