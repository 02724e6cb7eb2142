import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { ensureWorkingCopy, IMPORT_MESSAGE, WorkingCopyError } from '../../src/dev/working-copy.js';
import { REPO_ROOT } from '../fixtures/agent-harness.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ygg-dev-copy-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const git = (repo: string, ...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();

it('makes a git copy of the fleet with one commit on the first run, and keeps the user\'s edits after', async () => {
  const target = path.join(dir, 'repo');
  const made = await ensureWorkingCopy(path.join(REPO_ROOT, 'example-repo'), target);
  assert.deepEqual(made, { dir: target, branch: 'main', created: true });
  assert.equal(git(target, 'log', '--format=%s'), IMPORT_MESSAGE);
  assert.equal(git(target, 'status', '--porcelain'), '');
  writeFileSync(path.join(target, 'ygg.yaml'), `${git(target, 'show', 'HEAD:ygg.yaml')}\n# edited\n`);
  const kept = await ensureWorkingCopy(path.join(REPO_ROOT, 'example-repo'), target);
  assert.equal(kept.created, false);
  assert.match(git(target, 'status', '--porcelain'), /M ygg\.yaml/);
});

it('refuses a --repo that is no fleet repo, and creates nothing', async () => {
  const target = path.join(dir, 'none');
  await assert.rejects(ensureWorkingCopy(path.join(REPO_ROOT, 'src'), target), (error: unknown) => error instanceof WorkingCopyError && /has no ygg\.yaml/.test(error.message));
  assert.equal(existsSync(target), false);
});

it('refuses to copy over a directory that is there but no git repository', async () => {
  const target = path.join(dir, 'plain');
  mkdirSync(target);
  writeFileSync(path.join(target, 'notes.txt'), 'mine\n');
  await assert.rejects(ensureWorkingCopy(path.join(REPO_ROOT, 'example-repo'), target), /exists but is no git repository/);
  assert.deepEqual(readdirSync(target), ['notes.txt']);
});

it('refuses a working copy whose HEAD is detached, in one line that says how to get back on a branch', async () => {
  const target = path.join(dir, 'detached');
  await ensureWorkingCopy(path.join(REPO_ROOT, 'example-repo'), target);
  git(target, 'checkout', '-q', '--detach');
  await assert.rejects(ensureWorkingCopy(path.join(REPO_ROOT, 'example-repo'), target), (error: unknown) => error instanceof WorkingCopyError && /has no branch checked out \(HEAD is detached\).*switch main$/.test(error.message));
});
