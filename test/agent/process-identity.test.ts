import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  checkPidFile,
  isSameProcess,
  PidFileError,
  processIdentity,
  readPidFile,
  readProcessStat,
  removePidFile,
  writePidFile,
} from '../../src/agent/process-identity.js';
import { currentBootId } from '../../src/agent/boot-id.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ygg-identity-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('processIdentity of this process is stable and isSameProcess holds', () => {
  const first = processIdentity(process.pid);
  assert.ok(first !== undefined);
  assert.equal(first.pid, process.pid);
  assert.ok(first.startTime > 0);
  assert.deepEqual(processIdentity(process.pid), first);
  assert.equal(isSameProcess(first), true);
  // Same pid, other birth: what a reused pid looks like.
  assert.equal(isSameProcess({ pid: first.pid, startTime: first.startTime + 1 }), false);
});

test('a pid that does not exist (or is not a pid) has no identity', () => {
  assert.equal(processIdentity(2 ** 22 + 12345), undefined);
  assert.equal(processIdentity(0), undefined);
  assert.equal(processIdentity(-5), undefined);
});

test('a zombie has no identity', async (t) => {
  // sh forks `sleep 0` and then execs a sleep that never waits for it: the child stays a zombie.
  const shell = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => shell.kill('SIGKILL'));
  const [chunk] = (await once(shell.stdout, 'data')) as [Buffer];
  const zombie = Number(chunk.toString().trim());
  let state: string | undefined;
  for (let tries = 0; tries < 100 && state !== 'Z'; tries += 1) {
    state = readProcessStat(zombie)?.state;
    if (state !== 'Z') await sleep(20);
  }
  assert.equal(state, 'Z');
  assert.equal(processIdentity(zombie), undefined);
});

test('a command name with spaces and parentheses does not shift the fields', async (t) => {
  const procRoot = await tempDir(t);
  await mkdir(join(procRoot, '4242'));
  const after = ['S', '1', '4240', '4240', '0', '-1', '4194560', ...Array.from({ length: 12 }, () => '0'), '987654', '0'];
  await writeFile(join(procRoot, '4242', 'stat'), `4242 (evil) S 1 (x) y) ${after.join(' ')}\n`);
  assert.deepEqual(readProcessStat(4242, procRoot), { pid: 4242, startTime: 987654, state: 'S', processGroup: 4240 });
});

test('pid files round-trip, are written without leaving temp files, and are removed', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'run', 'instance.pid');
  const record = { pid: 123, startTime: 456, specHash: 'abc', startedAt: '2025-01-01T00:00:00.000Z', command: ['bin/app', '--port', '80'] };
  await writePidFile(file, record);
  await writePidFile(file, { ...record, pid: 124 });
  assert.deepEqual(await readPidFile(file), { ...record, pid: 124 });
  assert.deepEqual(await readdir(join(dir, 'run')), ['instance.pid']);
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { ...record, pid: 124 });
  await removePidFile(file);
  await removePidFile(file);
  assert.equal(await readPidFile(file), undefined);
});

test('a run directory deleted by hand is made again by the next pid file write', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'run', 'instance.pid');
  const record = { pid: 123, startTime: 456, specHash: 'abc', startedAt: '2025-01-01T00:00:00.000Z', command: ['bin/app'] };
  await writePidFile(file, record);
  await rm(join(dir, 'run'), { recursive: true });
  await writePidFile(file, { ...record, pid: 124 });
  assert.deepEqual(await readPidFile(file), { ...record, pid: 124 });
  assert.deepEqual(await readdir(join(dir, 'run')), ['instance.pid']);
});

test('a malformed pid file is a PidFileError with a stable code', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'bad.pid');
  for (const body of ['not json', '[]', '{"pid":"12","startTime":1,"specHash":"a","startedAt":"x","command":[]}', '{"pid":12,"startTime":1,"specHash":"a","startedAt":"x","command":[1]}']) {
    await writeFile(file, body);
    await assert.rejects(readPidFile(file), (error: unknown) => error instanceof PidFileError && error.code === 'E_PID_FILE_INVALID' && error.file === file);
  }
});

test('checkPidFile tells a live process from a dead one and from a reused pid', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'x.pid');
  assert.deepEqual(await checkPidFile(file), { alive: false, reason: 'no-pid-file' });
  await writeFile(file, '{');
  assert.deepEqual(await checkPidFile(file), { alive: false, reason: 'invalid-pid-file' });

  const self = processIdentity(process.pid)!;
  const record = { ...self, specHash: 'h', startedAt: new Date().toISOString(), command: ['node'] };
  await writePidFile(file, record);
  const live = await checkPidFile(file);
  assert.equal(live.alive, true);
  assert.ok(live.alive && live.record.pid === process.pid && live.processGroup === readProcessStat(process.pid)!.processGroup);

  await writePidFile(file, { ...record, startTime: self.startTime + 1 });
  assert.deepEqual(await checkPidFile(file), { alive: false, reason: 'pid-reused' });
  await writePidFile(file, { ...record, pid: 2 ** 22 + 12345 });
  assert.deepEqual(await checkPidFile(file), { alive: false, reason: 'not-running' });
});

test('checkPidFile asks its lookup, not /proc, what runs under a pid (the fleet simulator answers from a table)', async (t) => {
  const file = join(await tempDir(t), 'x.pid');
  // A pid no real process can hold: only the lookup can say it lives.
  const pid = 2 ** 22 + 777;
  const record = { pid, startTime: 41, specHash: 'h', startedAt: new Date().toISOString(), command: ['job'] };
  await writePidFile(file, record);
  const asked: number[] = [];
  const table = (startTime: number) => (candidate: number) => {
    asked.push(candidate);
    return candidate === pid ? { startTime, processGroup: 9 } : undefined;
  };
  assert.deepEqual(await checkPidFile(file, table(41)), { alive: true, record, processGroup: 9 });
  assert.deepEqual(await checkPidFile(file, table(42)), { alive: false, reason: 'pid-reused' });
  assert.deepEqual(await checkPidFile(file, () => undefined), { alive: false, reason: 'not-running' });
  assert.deepEqual(asked, [pid, pid]);
  await writeFile(file, 'not json');
  assert.deepEqual(await checkPidFile(file, table(41)), { alive: false, reason: 'invalid-pid-file' });
});

test('a pid file from an earlier boot names nothing alive, even when its (pid, start time) matches a process now', async (t) => {
  const file = join(await tempDir(t), 'x.pid');
  const self = processIdentity(process.pid)!;
  const record = { ...self, specHash: 'h', startedAt: new Date().toISOString(), command: ['node'] };
  const bootId = await currentBootId();
  assert.ok(bootId, 'this test needs /proc/sys/kernel/random/boot_id');
  await writePidFile(file, { ...record, bootId });
  assert.deepEqual(await readPidFile(file), { ...record, bootId });
  assert.equal((await checkPidFile(file)).alive, true);
  // The same pid and start ticks, recorded in another boot: a stranger that boot happened to start alike.
  await writePidFile(file, { ...record, bootId: '00000000-0000-0000-0000-000000000000' });
  assert.deepEqual(await checkPidFile(file), { alive: false, reason: 'not-running' });
  await writeFile(file, JSON.stringify({ ...record, bootId: 7 }));
  assert.deepEqual(await checkPidFile(file), { alive: false, reason: 'invalid-pid-file' });
});
