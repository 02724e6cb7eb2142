// Long-running commands refused at start (bad usage, an address in use, etcd refusing us, something
// that is not etcd) exit at once with one line and a stable code: never a stack trace, never a
// process that lingers with a live /healthz after saying it failed.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AUTH_PASSWORD, AUTH_USER, startEtcdWithAuth } from '../fixtures/etcd-auth.js';
import { freePort, uniquePrefix, useSharedEtcd, type EtcdServer } from '../fixtures/etcd-server.js';
import { createGitFleet } from '../fixtures/git-fleet.js';
import { startNotEtcdServers, type NotEtcdServers } from '../fixtures/not-etcd-servers.js';
import { removeDir } from '../fixtures/small-fleet.js';
import { runCli } from './run-cli.js';
import { runYgg, type ProcessResult } from './ygg-process.js';

const fleet = createGitFleet();
const scratch = mkdtempSync(path.join(tmpdir(), 'ygg-startup-'));
after(() => {
  removeDir(fleet.dir);
  removeDir(scratch);
});

/** Exit `code` and exactly one line on stderr matching `line`, with no stack trace. */
function assertOneLine(result: ProcessResult, code: number, line: RegExp): void {
  assert.notEqual(result.code, null, `still running after ${result.elapsedMs} ms; stderr: ${result.stderr}; stdout: ${result.stdout.slice(-3000)}`);
  assert.equal(result.code, code, result.stderr);
  const lines = result.stderr.split('\n').filter((text) => text !== '');
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0]!, line);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
}

/** A TCP listener holding a port, the way another program would. */
async function occupyPort(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('bad usage of a long-running command exits 2 at once', () => {
  it('controller --repo PATH that does not exist, even while etcd is unreachable', async () => {
    const missing = path.join(scratch, 'no-such-repo');
    const result = await runYgg(['controller', '--repo', missing, '--listen', '127.0.0.1:0', '--etcd', 'http://127.0.0.1:1', '--cache-dir', path.join(scratch, 'cache')]);
    assert.equal(result.code, 2, `${result.stderr} (after ${result.elapsedMs} ms)`);
    assert.ok(result.elapsedMs < 20_000, `${result.elapsedMs} ms: not at once`);
    assert.match(result.stderr, new RegExp(`^ygg controller: repo path "${missing}" does not exist\\nUsage: ygg controller `));
    assert.doesNotMatch(result.stdout, /http_listening|etcd_unavailable/, 'refused before anything started');
  });
});

describe('an address in use', { concurrency: true }, () => {
  // Stopped after the tests (a private etcd left running would keep this file from ever ending).
  const etcd = useSharedEtcd();

  it('controller --listen: exit 1, one line naming the address and the flag', async () => {
    const held = await occupyPort();
    try {
      const result = await runYgg(['controller', '--repo', fleet.dir, '--listen', `127.0.0.1:${held.port}`, '--etcd', etcd.url, '--etcd-prefix', uniquePrefix('startup'), '--cache-dir', path.join(scratch, 'cache')]);
      assertOneLine(result, 1, new RegExp(`^ygg controller: cannot listen on 127\\.0\\.0\\.1:${held.port}: the address is already in use .*; choose another address with --listen$`));
    } finally {
      await held.close();
    }
  });

  it('agent --metrics-listen: exit 1, one line naming the flag, before any job is adopted', async () => {
    const held = await occupyPort();
    try {
      const root = mkdtempSync(path.join(scratch, 'agent-'));
      const result = await runYgg(['agent', '--host', 'h1', '--root', root, '--etcd', etcd.url, '--etcd-prefix', uniquePrefix('startup'), '--metrics-listen', `127.0.0.1:${held.port}`, '--no-watchdog']);
      assertOneLine(result, 1, new RegExp(`^ygg agent: cannot listen on 127\\.0\\.0\\.1:${held.port}: the address is already in use .*; choose another address with --metrics-listen$`));
    } finally {
      await held.close();
    }
  });
});

describe('an etcd address where something else answers', { concurrency: true }, () => {
  let fakes: NotEtcdServers;
  before(async () => {
    fakes = await startNotEtcdServers();
  });
  after(() => fakes.close());

  it('status: exit 1, one line saying it is not etcd and what to check', async () => {
    const results = await Promise.all(fakes.servers.map(({ url }) => runYgg(['status', '--etcd', url])));
    fakes.servers.forEach(({ name, url }, index) => {
      assert.equal(results[index]!.code, 1, `${name}: ${results[index]!.stderr}`);
      assertOneLine(results[index]!, 1, new RegExp(`^ygg status: the server at ${url} is not etcd: .+; check that --etcd names etcd's client URL`));
    });
  });

  it('controller: exit 1 instead of retrying for ever', async () => {
    const { url } = fakes.servers[0]!;
    const result = await runYgg(['controller', '--repo', fleet.dir, '--listen', '127.0.0.1:0', '--etcd', url, '--cache-dir', path.join(scratch, 'cache')]);
    assertOneLine(result, 1, new RegExp(`^ygg controller: the server at ${url} is not etcd: `));
  });
});

describe('etcd with authentication', () => {
  let server: EtcdServer;
  before(async () => {
    server = await startEtcdWithAuth();
  });
  after(() => server.stop());

  const wrong = { env: { YGG_ETCD_PASSWORD: 'wrong-password' } };
  const hint = /; check --etcd-credentials, or --etcd-user and its password \(--etcd-password-file or \$YGG_ETCD_PASSWORD\)$/;

  it('a wrong password: the controller exits 1 with one line saying what to check', async () => {
    const result = await runYgg(['controller', '--repo', fleet.dir, '--listen', '127.0.0.1:0', '--etcd', server.url, '--etcd-user', AUTH_USER, '--cache-dir', path.join(scratch, 'cache')], wrong);
    assertOneLine(result, 1, new RegExp(`^ygg controller: authentication with etcd at ${server.url} failed: .*invalid user ID or password${hint.source}`));
  });

  it('a wrong password: the controller stops its HTTP face before it returns', async () => {
    const port = await freePort();
    const previous = process.env['YGG_ETCD_PASSWORD'];
    process.env['YGG_ETCD_PASSWORD'] = 'wrong-password';
    try {
      const result = await runCli('controller', '--repo', fleet.dir, '--listen', `127.0.0.1:${port}`, '--etcd', server.url, '--etcd-user', AUTH_USER, '--cache-dir', path.join(scratch, 'cache'), '--log-level', 'error');
      assert.equal(result.code, 1, result.stderr);
    } finally {
      if (previous === undefined) delete process.env['YGG_ETCD_PASSWORD'];
      else process.env['YGG_ETCD_PASSWORD'] = previous;
    }
    assert.ok(await canListen(port), `port ${port} is still held: /healthz would still answer`);
  });

  it('a wrong password: status exits 1 with the same line', async () => {
    const result = await runYgg(['status', '--etcd', server.url, '--etcd-user', AUTH_USER], wrong);
    assertOneLine(result, 1, new RegExp(`^ygg status: authentication with etcd at ${server.url} failed: .*${hint.source}`));
  });

  it('a wrong password: render (which waits out an etcd outage) exits 1 too, the file untouched', async () => {
    const out = path.join(scratch, 'keepalived.conf');
    const result = await runYgg(['render', 'keepalived', '--director', 'lvs-a1', '--out', out, '--etcd', server.url, '--etcd-user', AUTH_USER], wrong);
    assertOneLine(result, 1, new RegExp(`^ygg render: authentication with etcd at ${server.url} failed: .*${hint.source}`));
    assert.equal(existsSync(out), false);
  });

  it('keys outside the role: one line saying which grant is missing', async () => {
    const result = await runYgg(['status', '--etcd', server.url, '--etcd-user', AUTH_USER, '--etcd-prefix', '/elsewhere'], { env: { YGG_ETCD_PASSWORD: AUTH_PASSWORD } });
    assertOneLine(result, 1, /^ygg status: permission denied by etcd at .*; grant the etcd user's role read and write on the keys under --etcd-prefix$/);
  });

  it('the right password works', async () => {
    const result = await runYgg(['status', '--etcd', server.url, '--etcd-user', AUTH_USER], { env: { YGG_ETCD_PASSWORD: AUTH_PASSWORD } });
    assert.match(result.stdout, /^Commit in force: \(none yet\)$/m, result.stderr);
  });

  it('credentials in the URL: exit 2, the password is not echoed, the flags to use are', async () => {
    const url = server.url.replace('http://', `http://${AUTH_USER}:${AUTH_PASSWORD}@`);
    const result = await runYgg(['status', '--etcd', url]);
    assert.equal(result.code, 2, result.stderr);
    assert.ok(!result.stderr.includes(AUTH_PASSWORD), result.stderr);
    assert.match(result.stderr, /^ygg status: --etcd: bad etcd URL "http:\/\/\*\*\*@127\.0\.0\.1:\d+": credentials do not belong in the URL .*; give the user with --etcd-user and the password with --etcd-password-file or \$YGG_ETCD_PASSWORD$/m);
  });
});
