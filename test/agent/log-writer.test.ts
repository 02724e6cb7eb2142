import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LogFileError, openLogFiles, rotateIfLarger, startLogRotation } from '../../src/agent/log-writer.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ygg-logs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

test('a file at or under maxBytes is left alone; a missing file is no error', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'stdout.log');
  assert.equal(await rotateIfLarger(file, 10, 3), false);
  await writeFile(file, '0123456789');
  assert.equal(await rotateIfLarger(file, 10, 3), false);
  assert.deepEqual(await readdir(dir), ['stdout.log']);
});

test('rotation shifts generations and keeps only `keep` of them', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'stdout.log');
  for (const round of ['a', 'b', 'c', 'd', 'e']) {
    await writeFile(file, `${round}`.repeat(20));
    assert.equal(await rotateIfLarger(file, 10, 3), true);
    assert.equal((await stat(file)).size, 0);
  }
  assert.deepEqual((await readdir(dir)).sort(), ['stdout.log', 'stdout.log.1', 'stdout.log.2', 'stdout.log.3']);
  assert.equal(await readFile(`${file}.1`, 'utf8'), 'e'.repeat(20));
  assert.equal(await readFile(`${file}.2`, 'utf8'), 'd'.repeat(20));
  assert.equal(await readFile(`${file}.3`, 'utf8'), 'c'.repeat(20));
});

test('keep = 0 truncates without keeping a copy', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'stderr.log');
  await writeFile(file, 'x'.repeat(100));
  assert.equal(await rotateIfLarger(file, 10, 0), true);
  assert.deepEqual(await readdir(dir), ['stderr.log']);
});

test('copy-truncate under a live child writing through an O_APPEND descriptor: it keeps writing, no hole', async (t) => {
  const dir = await tempDir(t);
  const logs = await openLogFiles(join(dir, 'log'));
  const script = "let i = 0; setInterval(() => console.log('line ' + (i++) + ' ' + 'x'.repeat(200)), 2);";
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', logs.stdout, logs.stderr], detached: true });
  await logs.close(); // the child holds its own copies
  t.after(() => {
    child.kill('SIGKILL');
  });
  await waitFor(async () => (await stat(logs.stdoutPath)).size > 20_000);
  assert.equal(await rotateIfLarger(logs.stdoutPath, 10_000, 3), true);
  const rotated = await readFile(`${logs.stdoutPath}.1`, 'utf8');
  assert.ok(rotated.startsWith('line 0 '));

  await waitFor(async () => (await readFile(logs.stdoutPath, 'utf8')).split('\n').length > 20);
  const current = await readFile(logs.stdoutPath, 'utf8');
  // Without O_APPEND the child would write at its old offset and the file would start with NULs.
  assert.ok(!current.includes('\0'), 'no NUL hole after truncation');
  assert.match(current, /^line \d+ x+\n/);
  const lastRotated = Number(/line (\d+) x+\n$/.exec(rotated)![1]);
  const firstCurrent = Number(/^line (\d+)/.exec(current)![1]);
  assert.ok(firstCurrent > lastRotated, `numbering continues (${lastRotated} → ${firstCurrent})`);
  assert.ok((await stat(logs.stdoutPath)).size < (await stat(`${logs.stdoutPath}.1`)).size + 200_000);
});

test('startLogRotation rotates on its interval and stops', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'stdout.log');
  await writeFile(file, 'y'.repeat(100));
  const rotation = startLogRotation({ files: () => [file], maxBytes: 10, keep: 1, intervalMs: 20 });
  t.after(() => rotation.stop());
  await waitFor(async () => (await stat(file)).size === 0);
  assert.equal(await readFile(`${file}.1`, 'utf8'), 'y'.repeat(100));
});

test('an unusable log directory is a LogFileError E_LOG_OPEN', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'file'), '');
  await assert.rejects(openLogFiles(join(dir, 'file', 'log')), (error: unknown) => error instanceof LogFileError && error.code === 'E_LOG_OPEN');
});
