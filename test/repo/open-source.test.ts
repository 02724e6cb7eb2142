import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { LocalBranchSource } from '../../src/repo/local-branch-source.js';
import { openControllerSource } from '../../src/repo/open-source.js';
import { RemoteGitSource } from '../../src/repo/remote-git-source.js';
import { SourceError } from '../../src/repo/source.js';
import { createGitFleet, type GitFleet } from '../fixtures/git-fleet.js';
import { removeDir } from '../fixtures/small-fleet.js';

/** Directories this file created with mkdtemp; nothing else is ever removed. */
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) {
    assert.match(path.basename(dir), /^ygg-[a-z-]+-\w{6}$/, `refusing to remove ${dir}`);
    removeDir(dir);
  }
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

function fleetAndCache(): { fleet: GitFleet; cacheDir: string } {
  const fleet = createGitFleet();
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'ygg-source-cache-'));
  dirs.push(fleet.dir, cacheDir);
  return { fleet, cacheDir };
}

function isSourceError(code: string) {
  return (error: unknown) => {
    assert.ok(error instanceof SourceError, String(error));
    assert.equal(error.code, code, error.message);
    return true;
  };
}

describe('openControllerSource on a local repository', () => {
  it('reads the branch head in place and follows new commits', async () => {
    const { fleet, cacheDir } = fleetAndCache();
    const source = await openControllerSource(fleet.dir, 'main', cacheDir);
    assert.ok(source instanceof LocalBranchSource);
    assert.equal(source.label, path.resolve(fleet.dir));
    const first = await source.fetchHead();
    assert.deepEqual(first, { sha: git(fleet.dir, 'rev-parse', 'HEAD'), forced: false });

    const second = fleet.commit('Add notes', { 'NOTES.md': 'notes\n' });
    assert.deepEqual(await source.fetchHead(), { sha: second, previous: first.sha, forced: false });
    assert.deepEqual(await source.fetchHead(), { sha: second, previous: second, forced: false });
    const snapshot = await source.snapshotOf(second);
    assert.equal(snapshot.commit?.message, 'Add notes');
    const notes = snapshot.files.find((file) => file.path === 'NOTES.md')!;
    assert.equal(await snapshot.readText(notes), readFileSync(path.join(fleet.dir, 'NOTES.md'), 'utf8'));
  });

  it('flags a force-push (reset --hard + commit), also after a restart', async () => {
    const { fleet, cacheDir } = fleetAndCache();
    const source = await openControllerSource(fleet.dir, 'main', cacheDir);
    const first = await source.fetchHead();
    const second = fleet.commit('Add notes', { 'NOTES.md': 'notes\n' });
    assert.deepEqual(await source.fetchHead(), { sha: second, previous: first.sha, forced: false });
    git(fleet.dir, 'reset', '-q', '--hard', 'HEAD~1');
    const rewritten = fleet.commit('Add other notes', { 'NOTES.md': 'other notes\n' });
    assert.deepEqual(await source.fetchHead(), { sha: rewritten, previous: second, forced: true });
    // The dropped commit still reads: nothing pruned it.
    assert.equal((await source.snapshotOf(second)).commit?.message, 'Add notes');

    git(fleet.dir, 'reset', '-q', '--hard', first.sha);
    const restarted = await openControllerSource(fleet.dir, 'main', cacheDir);
    assert.deepEqual(await restarted.fetchHead(), { sha: first.sha, previous: rewritten, forced: true });
  });

  it('reports a missing branch and an unknown commit as E_REF_NOT_FOUND', async () => {
    const { fleet, cacheDir } = fleetAndCache();
    const source = await openControllerSource(fleet.dir, 'release', cacheDir);
    await assert.rejects(source.fetchHead(), isSourceError('E_REF_NOT_FOUND'));
    await assert.rejects(source.snapshotOf('0123456789abcdef0123456789abcdef01234567'), isSourceError('E_REF_NOT_FOUND'));
  });

  it('keeps the heads of different branches apart', async () => {
    const { fleet, cacheDir } = fleetAndCache();
    const main = await (await openControllerSource(fleet.dir, 'main', cacheDir)).fetchHead();
    git(fleet.dir, 'branch', 'release');
    // A head file written for "main" says nothing about "release".
    const release = await openControllerSource(fleet.dir, 'release', cacheDir);
    assert.deepEqual(await release.fetchHead(), { sha: main.sha, forced: false });
  });

  it('takes file:// URLs as local paths, and http(s) URLs as remotes', async () => {
    const { fleet, cacheDir } = fleetAndCache();
    const fromUrl = await openControllerSource(pathToFileURL(fleet.dir).href, 'main', cacheDir);
    assert.ok(fromUrl instanceof LocalBranchSource);
    assert.equal((await fromUrl.fetchHead()).sha, git(fleet.dir, 'rev-parse', 'HEAD'));

    const mirrorDir = mkdtempSync(path.join(tmpdir(), 'ygg-mirror-'));
    dirs.push(mirrorDir);
    const remote = await openControllerSource('https://bot:hunter2@git.example.com/ops/fleet.git', 'main', mirrorDir);
    assert.ok(remote instanceof RemoteGitSource);
    assert.equal(remote.label, 'https://git.example.com/ops/fleet.git');
  });

  it('refuses what it cannot read: a missing path, a folder outside git, ssh addresses', async () => {
    const { cacheDir } = fleetAndCache();
    await assert.rejects(openControllerSource(path.join(cacheDir, 'absent'), 'main', cacheDir), isSourceError('E_REPO_NOT_FOUND'));
    const plain = mkdtempSync(path.join(tmpdir(), 'ygg-plain-'));
    dirs.push(plain);
    await assert.rejects(openControllerSource(plain, 'main', cacheDir), isSourceError('E_NOT_A_GIT_REPO'));
    await assert.rejects(openControllerSource('ssh://git@example.com/fleet.git', 'main', cacheDir), isSourceError('E_UNSUPPORTED_URL'));
    await assert.rejects(openControllerSource('git@example.com:ops/fleet.git', 'main', cacheDir), isSourceError('E_UNSUPPORTED_URL'));
  });
});
