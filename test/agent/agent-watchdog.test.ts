// The agent and its twin watchdog, as real processes of the built CLI (etcd unreachable on purpose:
// the agent keeps retrying in the background, which is all this needs).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { keepTwinAlive } from '../../src/agent/agent-watchdog.js';
import { isSameProcess, processIdentity } from '../../src/agent/process-identity.js';

const root = mkdtempSync(path.join(tmpdir(), 'ygg-agent-test-watchdog-'));
const cli = path.resolve(import.meta.dirname, '../../bin/ygg.js');

function twinPid(role: 'agent' | 'watchdog'): number | undefined {
  try {
    const { pid, startTime } = JSON.parse(readFileSync(path.join(root, 'run', `${role}.pid.json`), 'utf8')) as { pid: number; startTime: number };
    return isSameProcess({ pid, startTime }) ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function waitFor<T>(read: () => T | undefined, what: string, timeoutMs = 3000): Promise<T> {
  for (const started = Date.now(); Date.now() - started < timeoutMs; await sleep(50)) {
    const value = read();
    if (value !== undefined) return value;
  }
  let log = '';
  try {
    log = readFileSync(path.join(root, 'log', 'agent.log'), 'utf8').slice(-2000);
  } catch {
    log = '(no agent.log)';
  }
  throw new Error(`timed out waiting for ${what}; agent.log: ${log}`);
}

after(() => {
  // The watchdog first: it would restart a killed agent.
  for (const role of ['watchdog', 'agent'] as const) {
    const pid = twinPid(role);
    if (pid) process.kill(pid, 'SIGKILL');
  }
  rmSync(root, { recursive: true, force: true });
});

test('each twin restarts the other within a second, and a deliberate stop ends both', async () => {
  const first = spawn(process.execPath, [cli, 'agent', '--host', 'twin-test', '--root', root, '--etcd', 'http://127.0.0.1:1', '--metrics-listen', '127.0.0.1:0'], { stdio: 'ignore', detached: true });
  first.unref();
  const agent = await waitFor(() => twinPid('agent'), 'the agent', 10_000);
  const watchdog = await waitFor(() => twinPid('watchdog'), 'the watchdog', 10_000);
  assert.equal(agent, first.pid);

  process.kill(agent, 'SIGKILL');
  const killedAt = Date.now();
  const restartedAgent = await waitFor(() => (twinPid('agent') !== agent ? twinPid('agent') : undefined), 'a new agent');
  assert.ok(Date.now() - killedAt < 1500, `agent back after ${Date.now() - killedAt} ms`);
  assert.notEqual(restartedAgent, agent);

  process.kill(watchdog, 'SIGKILL');
  const newWatchdog = await waitFor(() => (twinPid('watchdog') !== watchdog ? twinPid('watchdog') : undefined), 'a new watchdog');
  assert.notEqual(newWatchdog, watchdog);

  process.kill(restartedAgent, 'SIGTERM');
  await waitFor(() => (processIdentity(restartedAgent) === undefined && processIdentity(newWatchdog) === undefined ? true : undefined), 'both to exit', 5000);
  await sleep(600);
  assert.equal(twinPid('agent'), undefined, 'nobody restarted the agent after a deliberate stop');
});

test('a watchdog that finds its agent already gone at its first look reports a restart, not a first start', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ygg-agent-test-watchdog-first-'));
  const agentPidFile = path.join(dir, 'run', 'agent.pid.json');
  // The agent that started this watchdog, killed before the watchdog's first look.
  const gone = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => gone.on('exit', resolve));
  mkdirSync(path.dirname(agentPidFile), { recursive: true });
  writeFileSync(agentPidFile, JSON.stringify({ pid: gone.pid, startTime: 1 }));
  // A stand-in agent that records its identity the way the real one does.
  const standIn = `const fs = require('node:fs');
    const startTime = Number(fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[19]);
    fs.writeFileSync(${JSON.stringify(agentPidFile)}, JSON.stringify({ pid: process.pid, startTime }));
    setTimeout(() => {}, 60_000);`;
  const started: [string, number, boolean][] = [];
  const twin = await keepTwinAlive({ role: 'watchdog', root: dir, command: () => [process.execPath, '-e', standIn], pollIntervalMs: 60_000, onStarted: (role, pid, restart) => started.push([role, pid, restart]) });
  try {
    assert.equal(started.length, 1);
    assert.deepEqual(started.map(([role, , restart]) => [role, restart]), [['agent', true]]);
  } finally {
    twin.close();
    for (const [, pid] of started) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
