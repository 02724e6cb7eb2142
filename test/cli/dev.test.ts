// ygg dev's refusals, each one line before anything runs: exit 2 for bad usage, 1 otherwise (the run itself: test/dev/dev.test.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { runCli } from './run-cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ygg-dev-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

it('refuses a taken --port, naming the flag', async () => {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  try {
    const result = await runCli('dev', '--dir', path.join(dir, 'port'), '--port', String(port));
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `ygg dev: port ${port} is already in use: choose another with --port`);
    assert.equal(result.stdout, '');
  } finally {
    server.close();
  }
});

it('refuses a --repo that does not exist as bad usage, making nothing under --dir', async () => {
  const result = await runCli('dev', '--repo', path.join(dir, 'no-such-fleet'), '--dir', path.join(dir, 'typo'));
  assert.equal(result.code, 2);
  assert.match(result.stderr, new RegExp(`^ygg dev: --repo ${path.join(dir, 'no-such-fleet')} does not exist\n`));
  assert.equal(existsSync(path.join(dir, 'typo')), false);
});

it('says how to install etcd when it is missing', async () => {
  // A PATH with git alone: the working copy can be made, etcd cannot be found.
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  symlinkSync(execFileSync('bash', ['-c', 'command -v git'], { encoding: 'utf8' }).trim(), path.join(bin, 'git'));
  const saved = process.env['PATH'];
  process.env['PATH'] = bin;
  try {
    const result = await runCli('dev', '--dir', path.join(dir, 'no-etcd'));
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'ygg dev: etcd is not installed; install it with: sudo apt-get update && sudo apt-get install -y --no-install-recommends etcd-server');
  } finally {
    process.env['PATH'] = saved;
  }
  assert.deepEqual(readdirSync(path.join(dir, 'no-etcd')).sort(), ['dns', 'hosts', 'keepalived', 'logs', 'prometheus', 'repo']);
});
