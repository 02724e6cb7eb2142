import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureDirectory, inDirectory } from '../../src/agent/ensure-directory.js';

async function scratch(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ygg-ensure-dir-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

test('ensureDirectory creates a directory, with missing parents, keeps an existing one and its contents', async (t) => {
  const dir = await scratch(t);
  const data = path.join(dir, 'data', 'job');
  await ensureDirectory(data);
  await fs.writeFile(path.join(data, 'state'), 'kept');
  await ensureDirectory(data);
  assert.equal(await fs.readFile(path.join(data, 'state'), 'utf8'), 'kept');
  // Deleted by hand: the next call makes it again (nothing is remembered).
  await fs.rm(path.join(dir, 'data'), { recursive: true });
  await ensureDirectory(data);
  assert.ok((await fs.stat(data)).isDirectory());
});

test('inDirectory runs once when the directory is there, creates it and runs again when it is not', async (t) => {
  const dir = await scratch(t);
  const run = path.join(dir, 'run');
  let calls = 0;
  const write = () => {
    calls++;
    return fs.writeFile(path.join(run, 'job.json'), '{}', { flag: 'wx' });
  };
  await inDirectory(run, write);
  assert.equal(calls, 2);
  await fs.rm(path.join(run, 'job.json'));
  await inDirectory(run, write);
  assert.equal(calls, 3);
  await fs.rm(run, { recursive: true });
  await inDirectory(run, write);
  assert.equal(calls, 5);
  assert.equal(await fs.readFile(path.join(run, 'job.json'), 'utf8'), '{}');
  // Any other failure is the caller's, and is not retried.
  await assert.rejects(inDirectory(run, write), { code: 'EEXIST' });
  assert.equal(calls, 6);
});
