import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processGroupMembers } from '../../src/agent/process-group.js';
import { processIdentity, readPidFile, readProcessStat } from '../../src/agent/process-identity.js';
import { InstanceSupervisor, SupervisorError, type StartSpec, type SupervisorOptions, type SupervisorStatus } from '../../src/agent/supervisor.js';

const POLICY = { initialBackoffMs: 50, maxBackoffMs: 400, resetAfterMs: 1_000, crashLoopExits: 5, crashLoopWindowMs: 5_000 };

/** Prints "ready <pid>" and idles; SIGTERM ends it (Node's default). */
const SLEEPER = "console.log('ready ' + process.pid); setInterval(() => {}, 1000);";
/** Ignores SIGTERM (says so) and has a child in its group that ignores it too. */
const STUBBORN = `
  process.on('SIGTERM', () => console.log('got SIGTERM'));
  const child = require('child_process').spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); console.log('grandchild ' + process.pid); setInterval(() => {}, 1000)"], { stdio: 'inherit' });
  setInterval(() => {}, 1000);`;

/** A status as reported, with when it was reported (`since` only moves when the state changes). */
type Observed = SupervisorStatus & { readonly atMs: number };

interface Harness {
  readonly dir: string;
  spec(script: string, overrides?: Partial<StartSpec>): StartSpec;
  supervisor(options?: Partial<SupervisorOptions>): { supervisor: InstanceSupervisor; events: Observed[] };
  /** Kill a group at the end even if a test failed half-way. */
  track(pid: number): void;
}

async function harness(t: { after(fn: () => Promise<void> | void): void }): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'ygg-supervisor-'));
  const supervisors: InstanceSupervisor[] = [];
  const pids = new Set<number>();
  t.after(async () => {
    for (const supervisor of supervisors) supervisor.detach();
    for (const pid of pids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await rm(dir, { recursive: true, force: true });
  });
  return {
    dir,
    spec: (script, overrides = {}) => ({
      command: [process.execPath, '-e', script],
      env: { YGG_JOB: 'web' },
      cwd: dir,
      logDir: join(dir, 'log'),
      pidFile: join(dir, 'run', 'web.pid'),
      specHash: 'hash-1',
      ...overrides,
    }),
    supervisor: (options = {}) => {
      const events: Observed[] = [];
      const supervisor = new InstanceSupervisor({
        name: 'web',
        policy: POLICY,
        pollIntervalMs: 50,
        ...options,
        onStatus: (status) => {
          events.push({ ...status, atMs: Date.now() });
          if (status.pid !== undefined) pids.add(status.pid);
        },
      });
      supervisors.push(supervisor);
      return { supervisor, events };
    },
    track: (pid) => pids.add(pid),
  };
}

async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const readLog = (dir: string, name = 'stdout.log'): Promise<string> => readFile(join(dir, 'log', name), 'utf8').catch(() => '');

test('start: argv without a shell, own process group, output in the log files, pid file with identity', async (t) => {
  const h = await harness(t);
  process.env.YGG_TEST_AGENT_SECRET = 'must-not-leak';
  t.after(() => delete process.env.YGG_TEST_AGENT_SECRET);
  const script = "console.log('argv=' + process.argv[1]); console.log('env=' + process.env.YGG_JOB + ',' + (process.env.YGG_TEST_AGENT_SECRET ?? 'none') + ',' + (process.env.PATH ? 'path' : 'nopath')); console.error('to stderr'); setInterval(() => {}, 1000);";
  const { supervisor } = h.supervisor();
  await supervisor.start({ ...h.spec(script), command: [process.execPath, '-e', script, 'a b;$(touch x)'] });
  const { pid } = supervisor.status;
  assert.ok(pid !== undefined);
  assert.equal(supervisor.status.state, 'Running');
  assert.equal(readProcessStat(pid)?.processGroup, pid, 'leads its own process group');
  const out = await waitFor(async () => ((await readLog(h.dir)).includes('env=') ? readLog(h.dir) : undefined), 'stdout');
  assert.match(out, /^argv=a b;\$\(touch x\)$/m);
  assert.match(out, /^env=web,none,path$/m);
  assert.match(await waitFor(async () => (await readLog(h.dir, 'stderr.log')) || undefined, 'stderr'), /to stderr/);
  const record = await readPidFile(join(h.dir, 'run', 'web.pid'));
  assert.deepEqual({ pid: record?.pid, startTime: record?.startTime, specHash: record?.specHash }, { ...processIdentity(pid), specHash: 'hash-1' });
  await supervisor.stop({ drainMs: 0, termTimeoutMs: 2_000 });
});

test('a process killed with SIGKILL is restarted with a new pid', async (t) => {
  const h = await harness(t);
  const { supervisor } = h.supervisor();
  await supervisor.start(h.spec(SLEEPER));
  const first = supervisor.status.pid!;
  process.kill(first, 'SIGKILL');
  const second = await waitFor(() => supervisor.status.state === 'Running' && supervisor.status.pid !== first && supervisor.status.pid, 'restart');
  assert.notEqual(second, first);
  assert.equal(supervisor.status.restarts, 1);
  assert.equal(supervisor.status.lastExit?.signal, 'SIGKILL');
  assert.equal((await readPidFile(join(h.dir, 'run', 'web.pid')))?.pid, second);
  await supervisor.stop({ drainMs: 0, termTimeoutMs: 2_000 });
});

test('a job that exits at once goes CrashLoop with growing delays, never a busy loop', async (t) => {
  const h = await harness(t);
  // Each start stamps a file: the real start times, whether or not the supervisor saw it Running.
  const stamps = join(h.dir, 'starts');
  const script = `require('fs').appendFileSync(${JSON.stringify(stamps)}, Date.now() + '\\n'); process.exit(3);`;
  const { supervisor, events } = h.supervisor();
  await supervisor.start(h.spec(script));
  const startTimes = async (): Promise<number[]> => (await readFile(stamps, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
  await waitFor(() => supervisor.status.state === 'CrashLoop', 'CrashLoop', 30_000); // six Node start-ups: seconds on a loaded machine
  const atCrashLoop = (await startTimes()).length;
  // More than crashLoopExits (5) exits: the sixth exit is the crash loop, and it keeps being retried.
  assert.equal(atCrashLoop, 6);
  await waitFor(async () => (await startTimes()).length >= 8, 'restarts during CrashLoop', 20_000);
  const starts = await startTimes();
  assert.equal(supervisor.status.lastExit?.code, 3);
  assert.ok(events.every((event, index) => index < events.findIndex((e) => e.state === 'CrashLoop') || event.state === 'CrashLoop'), 'stays CrashLoop while it keeps failing');
  // Each gap is the backoff plus Node's start-up time: never less than the backoff, and growing.
  const gaps = starts.slice(1).map((at, index) => at - starts[index]!);
  const backoffs = [50, 100, 200, 400, 400, 400, 400];
  // The lower bounds are the growth: comparing gaps with each other instead would compare Node's
  // start-up times, which vary by hundreds of ms on a loaded machine.
  gaps.forEach((gap, index) => assert.ok(gap >= backoffs[index]! - 5, `gap ${index} (${gap} ms) honours the backoff: ${gaps.join(', ')}`));
  await supervisor.stop({ drainMs: 0, termTimeoutMs: 1_000 });
});

test('CrashLoop clears back to Running once the process stays up for resetAfterMs', async (t) => {
  const h = await harness(t);
  const counter = join(h.dir, 'count');
  const script = `const fs = require('fs'); let n = 0; try { n = Number(fs.readFileSync(${JSON.stringify(counter)}, 'utf8')); } catch {} fs.writeFileSync(${JSON.stringify(counter)}, String(n + 1)); if (n < 6) process.exit(1); setInterval(() => {}, 1000);`;
  const { supervisor, events } = h.supervisor();
  await supervisor.start(h.spec(script));
  await waitFor(() => supervisor.status.state === 'CrashLoop', 'CrashLoop', 30_000);
  await waitFor(() => supervisor.status.state === 'Running', 'Running again', 20_000);
  const last = events.at(-1)!;
  assert.equal(last.state, 'Running');
  assert.equal(last.restarts, 6);
  await supervisor.stop({ drainMs: 0, termTimeoutMs: 1_000 });
});

test('stop: beforeStop, drain, SIGTERM, then SIGKILL to the whole group; no restart afterwards', async (t) => {
  const h = await harness(t);
  const order: string[] = [];
  const { supervisor } = h.supervisor({
    beforeStop: async () => {
      order.push(`beforeStop:${(await readLog(h.dir)).includes('got SIGTERM') ? 'after-term' : 'before-term'}`);
    },
  });
  await supervisor.start(h.spec(STUBBORN));
  const leader = supervisor.status.pid!;
  const grandchild = Number(/grandchild (\d+)/.exec(await waitFor(async () => ((await readLog(h.dir)).includes('grandchild') ? readLog(h.dir) : undefined), 'grandchild'))![1]);
  h.track(grandchild);
  assert.deepEqual(processGroupMembers(leader), [leader, grandchild].sort((a, b) => a - b));

  const stopping = Date.now();
  const result = await supervisor.stop({ drainMs: 150, termTimeoutMs: 300 });
  const elapsed = Date.now() - stopping;
  assert.deepEqual(order, ['beforeStop:before-term']);
  assert.deepEqual(result.signals, ['SIGTERM', 'SIGKILL']);
  assert.match(await readLog(h.dir), /got SIGTERM/);
  assert.ok(elapsed >= 450, `drain + term timeout honoured (${elapsed} ms)`);
  assert.deepEqual(processGroupMembers(leader), []);
  assert.equal(processIdentity(grandchild), undefined);
  assert.equal(supervisor.status.state, 'Stopped');
  assert.equal(await readPidFile(join(h.dir, 'run', 'web.pid')), undefined);
  await sleep(300);
  assert.equal(supervisor.status.state, 'Stopped');
  assert.equal(supervisor.status.pid, undefined);
});

test('stop of a polite process needs only SIGTERM; stop is idempotent', async (t) => {
  const h = await harness(t);
  const { supervisor } = h.supervisor();
  await supervisor.start(h.spec(SLEEPER));
  const [first, second] = await Promise.all([supervisor.stop({ drainMs: 0, termTimeoutMs: 2_000 }), supervisor.stop({ drainMs: 0, termTimeoutMs: 2_000 })]);
  assert.deepEqual(first.signals, ['SIGTERM']);
  assert.equal(first, second);
  assert.equal(supervisor.status.lastExit?.signal, 'SIGTERM');
});

test('adoption: a new supervisor takes over the running process without restarting it, and restarts it when it dies', async (t) => {
  const h = await harness(t);
  const spec = h.spec(SLEEPER);
  const { supervisor: first } = h.supervisor();
  await first.start(spec);
  const pid = first.status.pid!;
  first.detach(); // the agent dies: nothing is stopped

  const { supervisor: second } = h.supervisor();
  const outcome = await second.adopt({ ...spec, specHash: 'hash-2' });
  assert.deepEqual(outcome, { adopted: true, pid, specHash: 'hash-1' });
  assert.equal(second.status.state, 'Running');
  assert.equal(second.status.adopted, true);
  assert.equal(second.status.specHash, 'hash-1', 'reports what actually runs');
  await sleep(200);
  assert.equal(second.status.pid, pid);
  assert.equal(second.status.restarts, 0);
  assert.equal((await readLog(h.dir)).match(/^ready /gm)?.length, 1, 'started once');

  process.kill(pid, 'SIGKILL');
  const restarted = await waitFor(() => second.status.state === 'Running' && second.status.pid !== pid && second.status.pid, 'restart of adopted');
  assert.deepEqual({ code: second.status.lastExit?.code, signal: second.status.lastExit?.signal }, { code: null, signal: null });
  assert.equal(second.status.specHash, 'hash-2', 'the restart runs the spec it was given');
  assert.equal((await readPidFile(spec.pidFile))?.pid, restarted);
  await second.stop({ drainMs: 0, termTimeoutMs: 2_000 });
});

test('a pid file whose pid now belongs to another process (other start time) is not adopted', async (t) => {
  const h = await harness(t);
  const spec = h.spec(SLEEPER);
  const { supervisor: first } = h.supervisor();
  await first.start(spec);
  const stranger = first.status.pid!;
  first.detach();
  const record = (await readPidFile(spec.pidFile))!;
  await writeFile(spec.pidFile, JSON.stringify({ ...record, startTime: record.startTime + 1 }));

  const { supervisor: second } = h.supervisor();
  assert.deepEqual(await second.adopt(spec), { adopted: false, reason: 'pid-reused' });
  assert.notEqual(second.status.pid, stranger);
  assert.equal(second.status.adopted, false);
  assert.ok(processIdentity(stranger) !== undefined, 'the stranger was not signalled');
  await second.stop({ drainMs: 0, termTimeoutMs: 2_000 });
  assert.ok(processIdentity(stranger) !== undefined, 'not even by stop()');
});

test('no pid file, a garbled one, or a dead process: started afresh', async (t) => {
  const h = await harness(t);
  for (const [body, reason] of [[undefined, 'no-pid-file'], ['{garbled', 'invalid-pid-file'], [JSON.stringify({ pid: 2 ** 22 + 12345, startTime: 1, specHash: 'h', startedAt: 'x', command: [] }), 'not-running']] as const) {
    const spec = h.spec(SLEEPER);
    await rm(spec.pidFile, { force: true });
    if (body !== undefined) await writeFile(spec.pidFile, body);
    const { supervisor } = h.supervisor();
    assert.deepEqual(await supervisor.adopt(spec), { adopted: false, reason });
    assert.equal(supervisor.status.state, 'Running');
    await supervisor.stop({ drainMs: 0, termTimeoutMs: 2_000 });
  }
});

test('the job survives a SIGKILLed agent process and the next agent adopts it', async (t) => {
  const h = await harness(t);
  const script = "let i = 0; setInterval(() => console.log('tick ' + (i++)), 20);";
  const spec = h.spec(script);
  const moduleUrl = new URL('../../src/agent/supervisor.ts', import.meta.url).href;
  const agentCode = `
    const { InstanceSupervisor } = await import(${JSON.stringify(moduleUrl)});
    const supervisor = new InstanceSupervisor({ name: 'web' });
    await supervisor.start(${JSON.stringify(spec)});
    console.log(JSON.stringify({ pid: supervisor.status.pid }));
    setInterval(() => {}, 1000);`;
  const agent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', agentCode], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    agent.kill('SIGKILL');
  });
  const [chunk] = (await once(agent.stdout!, 'data')) as [Buffer];
  const { pid } = JSON.parse(chunk.toString()) as { pid: number };
  h.track(pid);
  const identity = processIdentity(pid)!;
  await waitFor(async () => (await readPidFile(spec.pidFile))?.pid === pid, 'pid file');

  agent.kill('SIGKILL');
  await once(agent, 'exit');
  const sizeAfterDeath = (await stat(join(h.dir, 'log', 'stdout.log'))).size;
  await sleep(300);
  assert.deepEqual(processIdentity(pid), identity, 'same process, still alive');
  assert.ok((await stat(join(h.dir, 'log', 'stdout.log'))).size > sizeAfterDeath, 'still writing its log');

  const { supervisor } = h.supervisor();
  assert.deepEqual(await supervisor.adopt(spec), { adopted: true, pid, specHash: 'hash-1' });
  await supervisor.stop({ drainMs: 0, termTimeoutMs: 2_000 });
  assert.equal(processIdentity(pid), undefined);
});

test('a command that cannot be executed is Failed with the reason, and not retried', async (t) => {
  const h = await harness(t);
  const { supervisor, events } = h.supervisor();
  await supervisor.start({ ...h.spec(SLEEPER), command: [join(h.dir, 'no-such-binary')] });
  assert.equal(supervisor.status.state, 'Failed');
  assert.match(supervisor.status.lastError ?? '', /no-such-binary.*ENOENT/);
  const count = events.length;
  await sleep(300);
  assert.equal(events.length, count);
});

test('afterSpawn gets each pid; its failure does not stop the start', async (t) => {
  const h = await harness(t);
  const seen: number[] = [];
  const { supervisor } = h.supervisor({
    afterSpawn: (pid) => {
      seen.push(pid);
      throw new Error('cgroups said no');
    },
  });
  await supervisor.start(h.spec(SLEEPER));
  assert.deepEqual(seen, [supervisor.status.pid]);
  assert.equal(supervisor.status.state, 'Running');
  await supervisor.stop({ drainMs: 0, termTimeoutMs: 2_000 });
});

test('bad argv and double starts are typed errors', async (t) => {
  const h = await harness(t);
  const { supervisor } = h.supervisor();
  await assert.rejects(supervisor.start({ ...h.spec(SLEEPER), command: [] }), (error: unknown) => error instanceof SupervisorError && error.code === 'E_INVALID_COMMAND');
  await supervisor.start(h.spec(SLEEPER));
  await assert.rejects(supervisor.start(h.spec(SLEEPER)), (error: unknown) => error instanceof SupervisorError && error.code === 'E_ALREADY_STARTED');
  await supervisor.stop({ drainMs: 0, termTimeoutMs: 2_000 });
});
