import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { OS_PROCESS_DRIVER } from '../../src/agent/process-driver.js';
import { parseStatFields, ProcessGoneError, readProcessMetrics, readSystemUnits } from '../../src/agent/process-metrics.js';

test('system units come from getconf, once', async () => {
  const units = await readSystemUnits();
  assert.ok(units.clockTicksPerSecond > 0);
  assert.ok(units.pageSizeBytes >= 4096);
  assert.equal(readSystemUnits(), readSystemUnits());
});

test('the test process itself: figures agree with what node reports', async () => {
  // burn a little CPU so cpu seconds are well above a tick
  const until = Date.now() + 200;
  while (Date.now() < until);
  const sample = await readProcessMetrics(process.pid);
  const usage = process.cpuUsage();
  const nodeCpuSeconds = (usage.user + usage.system) / 1e6;
  assert.equal(sample.pid, process.pid);
  assert.ok(Math.abs(sample.cpuSeconds - nodeCpuSeconds) < 0.3, `proc ${sample.cpuSeconds} vs node ${nodeCpuSeconds}`);
  const rss = process.memoryUsage().rss;
  assert.ok(Math.abs(sample.rssBytes - rss) / rss < 0.2, `proc ${sample.rssBytes} vs node ${rss}`);
  // The test runner opens and closes sockets and pipes meanwhile: the count moves by a few.
  const fds = readdirSync('/proc/self/fd').length;
  assert.ok(sample.openFds >= 3 && Math.abs(sample.openFds - fds) <= 10, `proc ${sample.openFds} vs readdir ${fds}`);
  assert.ok(Math.abs(sample.uptimeSeconds - process.uptime()) < 1, `proc ${sample.uptimeSeconds} vs node ${process.uptime()}`);
  assert.ok(sample.startTimeTicks > 0);
});

test('a child: its own cpu, memory, fds and a fresh uptime; gone after exit', async () => {
  // burns 300 ms of CPU time (not wall time: the machine may be busy), says so on fd 3, then idles
  // holding two extra pipes (fds 3 and 4). cpuUsage() is a system call: asked after every million
  // iterations, not on each, or the system time it costs (seconds on a busy machine) is what is measured.
  const code = "let x = 0; for (;;) { for (let i = 0; i < 1e6; i++) x ^= i; if (process.cpuUsage().user >= 300000) break; } require('fs').writeSync(3, x === -1 ? '' : 'ready'); setTimeout(() => {}, 30000)";
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
  try {
    await once(child.stdio[3]!, 'data');
    const sample = await readProcessMetrics(child.pid!);
    assert.ok(sample.cpuSeconds >= 0.25 && sample.cpuSeconds < 2, `cpu ${sample.cpuSeconds}`);
    assert.ok(sample.rssBytes > 10 * 1024 * 1024, `rss ${sample.rssBytes}`);
    assert.ok(sample.openFds >= 5, `fds ${sample.openFds}`);
    // Fresh: no older than the spawn (in clock ticks of 10 ms), however long a busy machine took to burn the CPU.
    const sinceSpawn = (performance.now() - spawnedAt) / 1000;
    assert.ok(sample.uptimeSeconds >= 0.3 && sample.uptimeSeconds <= sinceSpawn + 0.02, `uptime ${sample.uptimeSeconds}, ${sinceSpawn} s since the spawn`);
    const self = await readProcessMetrics(process.pid);
    assert.ok(sample.startTimeTicks > self.startTimeTicks);
  } finally {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
  await assert.rejects(readProcessMetrics(child.pid!), (error: unknown) => error instanceof ProcessGoneError && error.code === 'E_PROCESS_GONE' && error.pid === child.pid);
  await assert.rejects(readProcessMetrics(-1), ProcessGoneError);
  // The agent reads them through its process driver: a process gone is no figures, not an error.
  assert.equal(await OS_PROCESS_DRIVER.processMetrics(child.pid!), undefined);
  assert.equal((await OS_PROCESS_DRIVER.processMetrics(process.pid))?.pid, process.pid);
});

test('stat fields are read after the last parenthesis: a comm with spaces and ")" does not shift them', () => {
  const stat = '4242 (evil) name (x) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 1 0 123456 1000 200 18446744073709551615';
  const fields = parseStatFields(stat);
  assert.equal(fields[0], 'S');
  assert.equal(fields[14 - 3], '150');
  assert.equal(fields[15 - 3], '50');
  assert.equal(fields[22 - 3], '123456');
});
