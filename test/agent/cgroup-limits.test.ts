import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CgroupLimiter, type CgroupError } from '../../src/agent/cgroup-limits.js';

async function fakeCgroupRoot(t: { after(fn: () => Promise<void>): void }, controllers = 'cpuset cpu io memory pids'): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'ygg-cgroup-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await writeFile(join(root, 'cgroup.controllers'), `${controllers}\n`);
  await writeFile(join(root, 'cgroup.subtree_control'), '');
  return root;
}

test('limits land in ROOT/ygg/<job>: memory.max in bytes, cpu.max as quota and period, pid in cgroup.procs', async (t) => {
  const root = await fakeCgroupRoot(t);
  const limiter = new CgroupLimiter({ root });
  const outcome = await limiter.apply('web', 4242, { memoryMB: 64, cpu: 0.5 });
  const jobPath = join(root, 'ygg', 'web');
  assert.deepEqual(outcome, { status: 'applied', path: jobPath });
  assert.equal(await readFile(join(jobPath, 'memory.max'), 'utf8'), String(64 * 1024 * 1024));
  assert.equal(await readFile(join(jobPath, 'cpu.max'), 'utf8'), '50000 100000');
  assert.equal(await readFile(join(jobPath, 'cgroup.procs'), 'utf8'), '4242');
  assert.equal(await readFile(join(root, 'cgroup.subtree_control'), 'utf8'), '+memory +cpu');
  assert.equal(await readFile(join(root, 'ygg', 'cgroup.subtree_control'), 'utf8'), '+memory +cpu');
});

test('a limit absent from the spec is reset to max, so a dropped limit does not linger', async (t) => {
  const root = await fakeCgroupRoot(t);
  const limiter = new CgroupLimiter({ root });
  await limiter.apply('web', 1, { memoryMB: 64, cpu: 2 });
  await limiter.apply('web', 1, { cpu: 2 });
  assert.equal(await readFile(join(root, 'ygg', 'web', 'memory.max'), 'utf8'), 'max');
  assert.equal(await readFile(join(root, 'ygg', 'web', 'cpu.max'), 'utf8'), '200000 100000');
});

test('no resources: nothing is created and nothing is warned', async (t) => {
  const root = await fakeCgroupRoot(t);
  const warnings: CgroupError[] = [];
  const limiter = new CgroupLimiter({ root, onWarning: (error) => warnings.push(error) });
  assert.deepEqual(await limiter.apply('web', 1, {}), { status: 'none' });
  await assert.rejects(access(join(root, 'ygg')));
  assert.deepEqual(warnings, []);
});

test('no cgroup v2 hierarchy: unavailable with a reason, warned once however often it is asked', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'ygg-cgroup-v1-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const warnings: CgroupError[] = [];
  const limiter = new CgroupLimiter({ root, onWarning: (error) => warnings.push(error) });
  for (const job of ['a', 'b', 'a']) {
    const outcome = await limiter.apply(job, 1, { memoryMB: 10 });
    assert.equal(outcome.status, 'unavailable');
    assert.ok(outcome.status === 'unavailable' && outcome.error.code === 'E_CGROUP_UNAVAILABLE');
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!.message, /running without limits/);
  assert.deepEqual(Object.keys(warnings[0]!.toJSON()).sort(), ['code', 'message', 'path', 'reason']);
});

test('a controller the hierarchy lacks, an unwritable tree and a bad job name are reported, not thrown', async (t) => {
  const noMemory = await fakeCgroupRoot(t, 'cpu pids');
  const missing = await new CgroupLimiter({ root: noMemory }).apply('web', 1, { memoryMB: 10 });
  assert.ok(missing.status === 'unavailable' && missing.error.code === 'E_CGROUP_CONTROLLER_MISSING');

  const blocked = await fakeCgroupRoot(t);
  await writeFile(join(blocked, 'ygg'), 'a file where the directory should be');
  const notWritable = await new CgroupLimiter({ root: blocked }).apply('web', 1, { cpu: 1 });
  assert.ok(notWritable.status === 'unavailable' && notWritable.error.code === 'E_CGROUP_NOT_WRITABLE');

  const badName = await new CgroupLimiter({ root: blocked }).apply('../escape', 1, { cpu: 1 });
  assert.ok(badName.status === 'unavailable' && badName.error.code === 'E_CGROUP_BAD_NAME');
});

test('remove() deletes the job cgroup and tolerates one that was never made', async (t) => {
  const root = await fakeCgroupRoot(t);
  const limiter = new CgroupLimiter({ root });
  await limiter.remove('never');
  await mkdir(join(root, 'ygg', 'empty'), { recursive: true });
  await limiter.remove('empty');
  await assert.rejects(access(join(root, 'ygg', 'empty')));
});

test('this machine: limits applied to a real process where cgroup v2 is writable, else the warn-once path', async (t) => {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  t.after(() => {
    child.kill('SIGKILL');
  });
  const warnings: CgroupError[] = [];
  const limiter = new CgroupLimiter({ parent: `ygg-test-${process.pid}`, onWarning: (error) => warnings.push(error) });
  const outcome = await limiter.apply('probe', child.pid!, { memoryMB: 128, cpu: 0.25 });
  const writable = await access('/sys/fs/cgroup/cgroup.controllers', constants.F_OK).then(
    () => outcome.status === 'applied',
    () => false,
  );
  if (writable && outcome.status === 'applied') {
    t.after(async () => {
      child.kill('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 100));
      await limiter.remove('probe');
      await rmdir(`/sys/fs/cgroup/ygg-test-${process.pid}`).catch(() => {});
    });
    assert.equal((await readFile(join(outcome.path, 'memory.max'), 'utf8')).trim(), String(128 * 1024 * 1024));
    assert.match(await readFile(join(outcome.path, 'cgroup.procs'), 'utf8'), new RegExp(`^${child.pid}$`, 'm'));
    return;
  }
  t.diagnostic(`cgroup v2 not writable here: ${outcome.status === 'unavailable' ? outcome.error.message : outcome.status}`);
  assert.equal(outcome.status, 'unavailable');
  await limiter.apply('probe', child.pid!, { memoryMB: 128 });
  assert.equal(warnings.length, 1);
});
