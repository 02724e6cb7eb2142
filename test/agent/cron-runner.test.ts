import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CronRunner, CronTaskError, type CronRunnerOptions, type CronTaskSpec } from '../../src/agent/cron-runner.js';
import { waitFor } from '../store/wait-for.js';

/** A killed process whose parent died stays a zombie until init reaps it: that is dead enough. */
function isAlive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z';
  } catch {
    return false;
  }
}

const EVERY_SECOND = '* * * * * *';

describe('CronRunner', () => {
  let dir: string;
  let release: string;
  let logDir: string;
  const runners: CronRunner[] = [];

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ygg-cron-'));
    release = mkdtempSync(path.join(dir, 'release-'));
    logDir = path.join(dir, 'log', 'web');
  });
  after(async () => {
    await Promise.all(runners.map((runner) => runner.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (tasks: CronTaskSpec[], extra: Partial<CronRunnerOptions> = {}) => {
    const runner = new CronRunner({ job: 'web', tasks, cwd: release, env: { PATH: process.env['PATH'], GREETING: 'hello' }, logDir, ...extra });
    runners.push(runner);
    await runner.start();
    return runner;
  };
  const logOf = (name: string) => readFileSync(path.join(logDir, `cron-${name}.log`), 'utf8');

  test('a task due every second runs with the job env and cwd, output appended to its log', async () => {
    const ended: string[] = [];
    const runner = await start([{ name: 'hello', schedule: EVERY_SECOND, command: ['sh', '-c', 'echo "$GREETING from $(pwd)"'] }], { onRunEnd: (task) => ended.push(task) });
    assert.equal(runner.status()['hello']!.runs, 0);
    assert.ok(runner.status()['hello']!.nextRun);
    await waitFor(() => runner.status()['hello']!.runs >= 2, 'two runs', 4000);
    await runner.stop();
    const status = runner.status()['hello']!;
    assert.deepEqual(status.lastExit, { code: 0, signal: null, timedOut: false });
    assert.ok(status.lastDurationMs! >= 0 && status.lastDurationMs! < 1000);
    assert.ok(Date.now() - Date.parse(status.lastRun!) < 2000);
    assert.equal(status.skipped, 0);
    assert.equal(status.running, false);
    assert.equal(status.nextRun, undefined, 'stopped: nothing is next');
    const log = logOf('hello');
    assert.equal(log.split(`hello from ${release}\n`).length - 1, status.runs);
    assert.match(log, /^--- \S+ start: \["sh","-c",.*\]\n/);
    assert.match(log, /--- \S+ exit 0\n$/);
    assert.ok(ended.length >= 2 && ended.every((task) => task === 'hello'));
  });

  test('a run still going when the next is due is skipped and counted, never doubled', async () => {
    const marker = path.join(dir, 'overlap');
    // records the number of copies running at its start, and holds for 2.5 s
    const script = `n=$(ls ${marker}.* 2>/dev/null | wc -l); touch ${marker}.$$; echo "concurrent=$n"; sleep 2.5; rm ${marker}.$$`;
    const runner = await start([{ name: 'slow', schedule: EVERY_SECOND, command: ['sh', '-c', script] }]);
    await waitFor(() => runner.status()['slow']!.runs >= 1 && runner.status()['slow']!.skipped >= 2, 'a finished run and skips', 6000);
    await runner.stop();
    const status = runner.status()['slow']!;
    assert.ok(status.skipped >= 2, `skipped ${status.skipped}`);
    const log = logOf('slow');
    assert.doesNotMatch(log, /concurrent=[1-9]/);
    assert.ok((log.match(/start:/g) ?? []).length <= status.runs + 1);
  });

  test('a run past its timeoutSeconds is killed with its whole process group', async () => {
    const pidFile = path.join(dir, 'timeout.pid');
    const runner = await start([
      { name: 'stuck', schedule: EVERY_SECOND, timeoutSeconds: 0.5, command: ['sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`] },
    ]);
    await waitFor(() => runner.status()['stuck']!.lastExit, 'a finished run', 4000);
    await runner.stop();
    const status = runner.status()['stuck']!;
    assert.deepEqual(status.lastExit, { code: null, signal: 'SIGTERM', timedOut: true });
    assert.ok(status.lastDurationMs! >= 450 && status.lastDurationMs! < 1500, `${status.lastDurationMs} ms`);
    const backgroundPid = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(() => !isAlive(backgroundPid), 'the background sleep to die', 1000);
    assert.match(logOf('stuck'), /killed by SIGTERM \(timed out after 0\.5 s\)/);
  });

  test('stop() ends the schedules and kills the runs in progress', async () => {
    const pidFile = path.join(dir, 'stop.pid');
    const runner = await start([{ name: 'long', schedule: EVERY_SECOND, command: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`] }]);
    await waitFor(() => runner.status()['long']!.running && existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim(), 'a run in progress', 4000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const stopping = Date.now();
    await runner.stop();
    assert.ok(Date.now() - stopping < 1000);
    assert.equal(isAlive(pid), false);
    const status = runner.status()['long']!;
    assert.equal(status.running, false);
    assert.equal(status.lastExit?.signal, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 1200));
    assert.equal(runner.status()['long']!.runs, 1, 'no run after stop');
  });

  test('a command that cannot start is recorded, not thrown', async () => {
    const runner = await start([{ name: 'missing', schedule: EVERY_SECOND, command: ['/nonexistent/cleanup'] }]);
    await waitFor(() => runner.status()['missing']!.lastExit, 'a run', 4000);
    await runner.stop();
    assert.deepEqual(runner.status()['missing']!.lastExit, { code: null, signal: null, timedOut: false, error: 'cannot start: ENOENT' });
    assert.match(logOf('missing'), /cannot start: ENOENT/);
  });

  test('a bad schedule, an empty command or a duplicate name is refused before anything is scheduled', () => {
    const make = (tasks: CronTaskSpec[]) => new CronRunner({ job: 'web', tasks, cwd: release, env: {}, logDir });
    const refused = (tasks: CronTaskSpec[], pattern: RegExp) =>
      assert.throws(() => make(tasks), (error: unknown) => error instanceof CronTaskError && error.code === 'E_CRON_TASK' && pattern.test(error.message));
    refused([{ name: 'bad', schedule: '61 * * * *', command: ['true'] }], /cron task bad of job web: invalid schedule "61 \* \* \* \*"/);
    refused([{ name: 'empty', schedule: '* * * * *', command: [] }], /command is empty/);
    refused(
      [
        { name: 'twice', schedule: '* * * * *', command: ['true'] },
        { name: 'twice', schedule: '* * * * *', command: ['true'] },
      ],
      /duplicate task name/,
    );
    // five fields as in crontab: the next run is on the hour, local time
    const runner = make([{ name: 'hourly', schedule: '0 * * * *', command: ['true'] }]);
    runners.push(runner);
    const next = new Date(runner.status()['hourly']!.nextRun!);
    assert.deepEqual([next.getMinutes(), next.getSeconds()], [0, 0]);
  });
});
