import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { removeEntry, unlinkIfPresent } from '../../src/agent/remove-tree.js';

async function scratch(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ygg-remove-tree-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

async function entryOf(parent: string, name: string) {
  return (await fs.readdir(parent, { withFileTypes: true })).find((entry) => entry.name === name)!;
}

test('removeEntry removes a nested tree (files, empty and full directories, links) and leaves its siblings', async (t) => {
  const dir = await scratch(t);
  const release = path.join(dir, 'releases', 'old');
  await fs.mkdir(path.join(release, 'bin', 'deep', 'empty'), { recursive: true });
  await fs.writeFile(path.join(release, 'bin', 'app'), 'x');
  await fs.writeFile(path.join(release, 'bin', 'deep', 'lib'), 'y');
  await fs.symlink('bin/app', path.join(release, 'app-link'));
  await fs.mkdir(path.join(dir, 'releases', 'new'));
  await removeEntry(path.join(dir, 'releases'), await entryOf(path.join(dir, 'releases'), 'old'));
  assert.deepEqual(await fs.readdir(path.join(dir, 'releases')), ['new']);
});

test('removeEntry unlinks a symlink to a directory and never empties what it points at', async (t) => {
  const dir = await scratch(t);
  const precious = path.join(dir, 'precious');
  await fs.mkdir(precious);
  await fs.writeFile(path.join(precious, 'keep'), 'data');
  await fs.mkdir(path.join(dir, 'releases'));
  await fs.symlink(precious, path.join(dir, 'releases', 'by-hand'));
  await removeEntry(path.join(dir, 'releases'), await entryOf(path.join(dir, 'releases'), 'by-hand'));
  assert.deepEqual(await fs.readdir(path.join(dir, 'releases')), []);
  assert.deepEqual(await fs.readdir(precious), ['keep']);
});

test('removeEntry and unlinkIfPresent take an entry already gone as done, and report other failures', async (t) => {
  const dir = await scratch(t);
  await fs.mkdir(path.join(dir, 'gone'));
  const entry = await entryOf(dir, 'gone');
  await fs.rmdir(path.join(dir, 'gone'));
  await removeEntry(dir, entry);
  await unlinkIfPresent(path.join(dir, 'never-there'));
  await fs.mkdir(path.join(dir, 'a-directory'));
  await assert.rejects(unlinkIfPresent(path.join(dir, 'a-directory')), { code: 'EISDIR' });
});
