import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HealthCheckSpecError, runHealthCheck, type HealthResult } from '../../src/agent/health-check.js';
import { HealthMonitor, type HealthTransition } from '../../src/agent/health-monitor.js';
import type { HealthCheck } from '../../src/model/types.js';
import { freePort } from '../fixtures/etcd-server.js';
import { waitFor } from '../store/wait-for.js';

/** The host's IP in these tests: its own loopback address, as every test host has (DESIGN §3b). */
const HOST_IP = '127.0.0.31';
const context = { hostIp: HOST_IP };

function listen(server: http.Server | net.Server, address = HOST_IP, port = 0): Promise<number> {
  return new Promise((resolve) => server.listen(port, address, () => resolve((server.address() as net.AddressInfo).port)));
}

function close(server: http.Server | net.Server): Promise<void> {
  if (server instanceof http.Server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A killed process whose parent died stays a zombie until init reaps it: that is dead enough. */
function isAlive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z';
  } catch {
    return false;
  }
}

describe('runHealthCheck', () => {
  let status = 200;
  const server = http.createServer((request, response) => {
    if (request.url === '/hang') return; // accepts, reads the request, never answers
    response.writeHead(request.url === '/health' ? status : 404).end('body');
  });
  const tcpServer = net.createServer((socket) => socket.end());
  const ports: Record<string, number> = {};
  let dir: string;

  before(async () => {
    ports['http'] = await listen(server);
    ports['tcp'] = await listen(tcpServer);
    ports['closed'] = await freePort();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ygg-health-'));
  });
  after(async () => {
    await Promise.all([close(server), close(tcpServer)]);
    rmSync(dir, { recursive: true, force: true });
  });

  const http_ = (port: string, pathName: string, timeoutSeconds = 1): HealthCheck => ({ http: { port, path: pathName }, intervalSeconds: 1, timeoutSeconds });
  const exec = (command: string[], timeoutSeconds = 2): HealthCheck => ({ exec: { command }, intervalSeconds: 1, timeoutSeconds });

  test('http: 2xx is healthy, anything else or no listener is not', async () => {
    assert.deepEqual(await runHealthCheck(http_('http', '/health'), ports, context), { healthy: true, detail: 'HTTP 200 from /health' });
    status = 503;
    assert.deepEqual(await runHealthCheck(http_('http', '/health'), ports, context), { healthy: false, detail: 'HTTP 503 from /health' });
    status = 200;
    assert.deepEqual(await runHealthCheck(http_('http', '/missing'), ports, context), { healthy: false, detail: 'HTTP 404 from /missing' });
    // nothing listens on the port anywhere: a plain refusal, no guess about loopback
    assert.deepEqual(await runHealthCheck(http_('closed', '/health'), ports, context), { healthy: false, detail: `connect ECONNREFUSED ${HOST_IP}:${ports['closed']}` });
  });

  test('http: a server that never answers times out at timeoutSeconds', async () => {
    const started = Date.now();
    const result = await runHealthCheck(http_('http', '/hang', 0.3), ports, context);
    const elapsedMs = Date.now() - started;
    assert.deepEqual(result, { healthy: false, detail: 'timed out after 300 ms' });
    assert.ok(elapsedMs >= 290 && elapsedMs < 1000, `took ${elapsedMs} ms`);
  });

  test('tcp: a listener is healthy, a closed port is not', async () => {
    assert.deepEqual(await runHealthCheck({ tcp: { port: 'tcp' }, intervalSeconds: 1, timeoutSeconds: 1 }, ports, context), { healthy: true, detail: `connected to ${HOST_IP}:${ports['tcp']}` });
    const refused = await runHealthCheck({ tcp: { port: 'closed' }, intervalSeconds: 1, timeoutSeconds: 1 }, ports, context);
    assert.deepEqual(refused, { healthy: false, detail: `connect ECONNREFUSED ${HOST_IP}:${ports['closed']}` });
  });

  test('exec: exit 0 is healthy, in cwd with the given env plus YGG_HOST_IP, no shell', async () => {
    const result = await runHealthCheck(exec(['sh', '-c', 'test "$PROBE" = yes && echo "$YGG_HOST_IP" && pwd']), ports, { ...context, cwd: dir, env: { PATH: process.env['PATH'], PROBE: 'yes' } });
    assert.deepEqual(result, { healthy: true, detail: `exit 0: ${HOST_IP}\n${dir}` });
    // argv, not a shell string: the `;` reaches echo as text
    assert.deepEqual(await runHealthCheck(exec(['echo', 'a;', 'false']), ports, context), { healthy: true, detail: 'exit 0: a; false' });
  });

  test('exec: a non-zero exit or a missing command is unhealthy, with its output', async () => {
    assert.deepEqual(await runHealthCheck(exec(['sh', '-c', 'echo disk full >&2; exit 3']), ports, context), { healthy: false, detail: 'exit 3: disk full' });
    const missing = await runHealthCheck(exec(['/nonexistent/probe']), ports, context);
    assert.deepEqual(missing, { healthy: false, detail: 'spawn /nonexistent/probe ENOENT' });
  });

  test('exec: a probe past its timeout is killed with everything it started', async () => {
    const pidFile = path.join(dir, 'background.pid');
    const started = Date.now();
    const result = await runHealthCheck(exec(['sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`], 0.5), ports, context);
    assert.deepEqual(result, { healthy: false, detail: 'timed out after 500 ms' });
    assert.ok(Date.now() - started < 1500);
    const backgroundPid = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(() => !isAlive(backgroundPid), `background sleep ${backgroundPid} to be killed`, 500);
  });

  test('a port the job does not declare, or no kind at all, is a spec error', async () => {
    await assert.rejects(runHealthCheck(http_('admin', '/'), ports, context), (error: unknown) => error instanceof HealthCheckSpecError && error.code === 'E_HEALTH_CHECK_SPEC' && /"admin"/.test(error.message));
    await assert.rejects(runHealthCheck({ intervalSeconds: 1, timeoutSeconds: 1 }, ports, context), HealthCheckSpecError);
  });

  test('an aborted signal ends a check at once', async () => {
    const controller = new AbortController();
    const pending = runHealthCheck(http_('http', '/hang', 10), ports, { ...context, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    assert.deepEqual(await pending, { healthy: false, detail: 'aborted' });
    assert.ok(!existsSync(path.join(dir, 'nothing')));
  });
});

describe('the address a check probes', () => {
  const servers: (http.Server | net.Server)[] = [];
  const httpServer = () => {
    const server = http.createServer((_request, response) => response.writeHead(200).end('ok'));
    servers.push(server);
    return server;
  };
  after(() => Promise.all(servers.map(close)));
  const check = (kind: 'http' | 'tcp', host?: string): HealthCheck =>
    kind === 'http' ? { http: { port: 'main', path: '/health', ...(host ? { host } : {}) }, intervalSeconds: 1, timeoutSeconds: 1 } : { tcp: { port: 'main', ...(host ? { host } : {}) }, intervalSeconds: 1, timeoutSeconds: 1 };

  test('http and tcp connect to the host IP: a job bound to it is healthy, another host IP is not', async () => {
    const port = await listen(httpServer(), '127.0.0.32');
    for (const kind of ['http', 'tcp'] as const) {
      assert.equal((await runHealthCheck(check(kind), { main: port }, { hostIp: '127.0.0.32' })).healthy, true, kind);
      assert.deepEqual(await runHealthCheck(check(kind), { main: port }, { hostIp: '127.0.0.33' }), { healthy: false, detail: `connect ECONNREFUSED 127.0.0.33:${port}` }, kind);
    }
  });

  test('a job bound to 127.0.0.1 only is unhealthy at its host IP, and the detail says why', async () => {
    const port = await listen(httpServer(), '127.0.0.1');
    const expected = `connect ECONNREFUSED 127.0.0.34:${port} — the check probes the host IP (the address naming registers); 127.0.0.1:${port} accepts: is the job bound to 127.0.0.1 only?`;
    for (const kind of ['http', 'tcp'] as const) {
      assert.deepEqual(await runHealthCheck(check(kind), { main: port }, { hostIp: '127.0.0.34' }), { healthy: false, detail: expected }, kind);
    }
  });

  test('a job bound to 0.0.0.0 answers at its host IP', async () => {
    const port = await listen(httpServer(), '0.0.0.0');
    assert.deepEqual(await runHealthCheck(check('http'), { main: port }, { hostIp: '127.0.0.35' }), { healthy: true, detail: 'HTTP 200 from /health' });
  });

  test('a per-check host overrides the host IP (IPv4 or IPv6), and a refusal there is not blamed on loopback', async () => {
    const port = await listen(httpServer(), '127.0.0.36');
    assert.equal((await runHealthCheck(check('http', '127.0.0.36'), { main: port }, { hostIp: '127.0.0.37' })).healthy, true);
    const loopbackPort = await listen(httpServer(), '127.0.0.1');
    assert.deepEqual(await runHealthCheck(check('tcp', '127.0.0.38'), { main: loopbackPort }, { hostIp: '127.0.0.37' }), { healthy: false, detail: `connect ECONNREFUSED 127.0.0.38:${loopbackPort}` });
    const v6Port = await listen(httpServer(), '::1');
    assert.deepEqual(await runHealthCheck(check('tcp', '::1'), { main: v6Port }, { hostIp: '127.0.0.37' }), { healthy: true, detail: `connected to [::1]:${v6Port}` });
  });
});

describe('HealthMonitor', () => {
  test('transitions: healthy after 1 success, unhealthy after 2 consecutive failures, healthy again', async () => {
    let healthy = true;
    const server = http.createServer((_request, response) => response.writeHead(healthy ? 200 : 500).end());
    const port = await listen(server);
    const monitor = new HealthMonitor({ check: { http: { port: 'http', path: '/health' }, intervalSeconds: 0.1, timeoutSeconds: 1 }, ports: { http: port }, context });
    const transitions: HealthTransition[] = [];
    monitor.onTransition((transition) => transitions.push(transition));
    try {
      assert.equal(monitor.state, 'unknown');
      monitor.start();
      await waitFor(() => monitor.state === 'healthy', 'healthy');
      healthy = false;
      const failingSince = Date.now();
      await waitFor(() => monitor.state === 'unhealthy', 'unhealthy');
      // two failures one interval apart: about 1-2 intervals after the server started failing
      assert.ok(Date.now() - failingSince < 600, `unhealthy after ${Date.now() - failingSince} ms`);
      assert.equal(monitor.consecutiveFailures, 2);
      assert.deepEqual(monitor.lastResult, { healthy: false, detail: 'HTTP 500 from /health' });
      healthy = true;
      await waitFor(() => monitor.state === 'healthy', 'healthy again');
    } finally {
      await monitor.stop();
      await close(server);
    }
    assert.deepEqual(transitions.map(({ from, to }) => `${from}->${to}`), ['unknown->healthy', 'healthy->unhealthy', 'unhealthy->healthy']);
    assert.equal(transitions[1]!.result.detail, 'HTTP 500 from /health');
  });

  test('thresholds are configurable, and one failure among successes changes nothing', async () => {
    const results = [true, false, true, true, true, false, false, false];
    let index = 0;
    const monitor = new HealthMonitor({
      check: { tcp: { port: 'x' }, intervalSeconds: 0.02, timeoutSeconds: 1 },
      ports: {},
      context,
      healthyThreshold: 3,
      unhealthyThreshold: 3,
      probe: async () => ({ healthy: results[index++] ?? false, detail: `probe ${index}` }),
    });
    const transitions: string[] = [];
    monitor.onTransition(({ to, result }) => transitions.push(`${to}@${result.detail}`));
    monitor.start();
    await waitFor(() => index >= results.length, 'all probes');
    await monitor.stop();
    assert.deepEqual(transitions, ['healthy@probe 5', 'unhealthy@probe 8']);
  });

  test('a check slower than the interval is never overlapped; stop aborts the one in flight', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let calls = 0;
    let abortedSeen = false;
    const monitor = new HealthMonitor({
      check: { exec: { command: ['true'] }, intervalSeconds: 0.01, timeoutSeconds: 1 },
      ports: {},
      context,
      probe: (signal) =>
        new Promise<HealthResult>((resolve) => {
          calls += 1;
          inFlight += 1;
          maxInFlight = Math.max(maxInFlight, inFlight);
          const done = () => {
            inFlight -= 1;
            resolve({ healthy: true, detail: 'slow' });
          };
          const timer = setTimeout(done, 80);
          signal.addEventListener('abort', () => {
            abortedSeen = true;
            clearTimeout(timer);
            done();
          });
        }),
    });
    monitor.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stopping = Date.now();
    await monitor.stop();
    assert.ok(Date.now() - stopping < 50, 'stop waited for the slow check instead of aborting it');
    assert.equal(maxInFlight, 1);
    assert.ok(calls >= 3 && calls <= 5, `${calls} calls`);
    assert.ok(abortedSeen);
    const callsAtStop = calls;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(calls, callsAtStop, 'no check after stop');
  });

  test('a spec error counts as a failing check, not a crashed monitor', async () => {
    const monitor = new HealthMonitor({ check: { http: { port: 'admin', path: '/' }, intervalSeconds: 0.02, timeoutSeconds: 1 }, ports: {}, context });
    monitor.start();
    await waitFor(() => monitor.state === 'unhealthy', 'unhealthy');
    await monitor.stop();
    assert.match(monitor.lastResult!.detail, /port "admin" is not one of the job's ports/);
  });
});
