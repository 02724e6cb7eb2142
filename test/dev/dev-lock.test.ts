import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { processIdentity } from '../../src/agent/process-identity.js';
import { acquireDevLock, DevAlreadyRunningError, readLock } from '../../src/dev/dev-lock.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ygg-dev-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

it('records this process and what it starts, refuses while it lives, and is gone after release', async () => {
  const file = path.join(dir, 'live.json');
  const lock = await acquireDevLock(file);
  assert.equal(lock.stale, undefined);
  await lock.update({ consoleUrl: 'http://127.0.0.1:7070' });
  await lock.addProcess({ name: 'etcd', pid: 42, startTime: 7 });
  const record = readLock(file)!;
  assert.deepEqual({ ...record, startTime: 0 }, { pid: process.pid, startTime: 0, consoleUrl: 'http://127.0.0.1:7070', processes: [{ name: 'etcd', pid: 42, startTime: 7 }] });
  await assert.rejects(acquireDevLock(file), (error: unknown) => error instanceof DevAlreadyRunningError && error.message === `already running (pid ${process.pid}), console at http://127.0.0.1:7070`);
  await lock.release();
  assert.equal(existsSync(file), false);
});

it('takes over the lock of a dead holder, handing its record over for recovery', async () => {
  const file = path.join(dir, 'stale.json');
  const child = spawn('true');
  const { pid } = child;
  await new Promise((resolve) => child.once('exit', resolve));
  const stale = { pid: pid!, startTime: 1, consoleUrl: 'http://127.0.0.1:1', processes: [{ name: 'controller', pid: 99, startTime: 3 }] };
  writeFileSync(file, JSON.stringify(stale));
  const lock = await acquireDevLock(file);
  assert.deepEqual(lock.stale, stale);
  assert.equal(readLock(file)!.pid, process.pid);
  await lock.release();
});

it('does not take a reused pid for the holder: another start time is another process', async () => {
  const file = path.join(dir, 'reused.json');
  const self = processIdentity(process.pid)!;
  writeFileSync(file, JSON.stringify({ pid: self.pid, startTime: self.startTime + 1, processes: [] }));
  const lock = await acquireDevLock(file);
  assert.equal(lock.stale?.startTime, self.startTime + 1);
  await lock.release();
});
