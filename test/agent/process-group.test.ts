import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { processIdentity } from '../../src/agent/process-identity.js';
import { processGroupMembers, signalProcessGroup, terminateProcessGroup } from '../../src/agent/process-group.js';

/** A detached leader with one child in its group; `stubborn` makes both ignore SIGTERM. */
async function startGroup(t: { after(fn: () => void): void }, stubborn: boolean): Promise<{ group: number; pids: number[] }> {
  const ignore = stubborn ? 'process.on("SIGTERM", () => {});' : '';
  const childScript = `${ignore} console.log(process.pid); setInterval(() => {}, 1000);`;
  const leaderScript = `${ignore} const c = require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(childScript)}], { stdio: 'inherit' }); setInterval(() => {}, 1000);`;
  const leader = spawn(process.execPath, ['-e', leaderScript], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  const group = leader.pid!;
  t.after(() => {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  const [chunk] = (await once(leader.stdout!, 'data')) as [Buffer];
  return { group, pids: [group, Number(chunk.toString().trim())].sort((a, b) => a - b) };
}

test('processGroupMembers lists the leader and its children', async (t) => {
  const { group, pids } = await startGroup(t, false);
  assert.deepEqual(processGroupMembers(group), pids);
});

test('a polite group goes with SIGTERM alone', async (t) => {
  const { group } = await startGroup(t, false);
  const result = await terminateProcessGroup(group, { termTimeoutMs: 2_000, killTimeoutMs: 2_000 });
  assert.deepEqual(result, { signals: ['SIGTERM'], gone: true });
  assert.deepEqual(processGroupMembers(group), []);
});

test('a group ignoring SIGTERM gets SIGKILL after termTimeoutMs, children included', async (t) => {
  const { group, pids } = await startGroup(t, true);
  const started = Date.now();
  const result = await terminateProcessGroup(group, { termTimeoutMs: 300, killTimeoutMs: 2_000 });
  assert.deepEqual(result, { signals: ['SIGTERM', 'SIGKILL'], gone: true });
  assert.ok(Date.now() - started >= 300);
  assert.deepEqual(processGroupMembers(group), []);
  // Gone or a zombie (an orphan's reaper here may be a PID 1 that never reaps): nothing alive.
  for (const pid of pids) assert.equal(processIdentity(pid), undefined);
});

test('nothing to signal: no group, pid 0 or 1', async () => {
  assert.deepEqual(await terminateProcessGroup(2 ** 22 + 12345, { termTimeoutMs: 100, killTimeoutMs: 100 }), { signals: [], gone: true });
  assert.equal(signalProcessGroup(0, 'SIGTERM'), false);
  assert.equal(signalProcessGroup(1, 'SIGTERM'), false);
});
