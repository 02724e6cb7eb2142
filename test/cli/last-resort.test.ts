// The handlers of last resort, in real processes: an error nothing caught ends the command with one
// line and exit 1 (the stack only with YGG_DEBUG=1); a service logs it as one JSON line and exits,
// rather than running on with a part of it dead.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { waitUntil } from '../fixtures/controller-harness.js';
import { removeDir } from '../fixtures/small-fleet.js';
import { startYgg, type YggProcessOptions } from './ygg-process.js';

const PRELOAD = ['--import', fileURLToPath(new URL('crash-on-signal.ts', import.meta.url))];
const scratch = mkdtempSync(path.join(tmpdir(), 'ygg-last-resort-'));
after(() => removeDir(scratch));

/** `ygg status` against a server that accepts and never answers, crashed by SIGUSR2 while it waits. */
async function crashStatus(options: YggProcessOptions) {
  const sockets: net.Socket[] = [];
  const silent = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const running = startYgg(['status', '--etcd', `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`], { ...options, nodeArgs: PRELOAD });
    await waitUntil(() => sockets.length > 0, 'status connecting', 30_000);
    running.child.kill('SIGUSR2');
    return await running.exited(30_000);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
}

describe('an error nothing caught', { concurrency: true }, () => {
  it('in a command: one line naming the command, exit 1', async () => {
    const result = await crashStatus({});
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr, 'ygg status: boom in a promise (unexpected: YGG_DEBUG=1 shows the stack trace)\n');
  });

  it('with YGG_DEBUG=1: the same line, then the stack trace', async () => {
    const result = await crashStatus({ env: { YGG_DEBUG: '1', YGG_TEST_CRASH: 'throw' } });
    assert.equal(result.code, 1, result.stderr);
    const [line, ...stack] = result.stderr.trimEnd().split('\n');
    assert.equal(line, 'ygg status: boom in a callback (unexpected: YGG_DEBUG=1 shows the stack trace)');
    assert.match(stack.join('\n'), /^Error: boom in a callback\n\s+at /);
  });

  it('in a service: one fatal JSON log line, and the process exits 1', async () => {
    const running = startYgg(['controller', '--repo', 'example-repo', '--listen', '127.0.0.1:0', '--etcd', 'http://127.0.0.1:1', '--cache-dir', path.join(scratch, 'cache')], { nodeArgs: PRELOAD });
    // Retrying etcd for ever: it is up as a service, its logger in place.
    await waitUntil(() => running.stdout().includes('"etcd_unavailable"'), 'the controller retrying etcd', 30_000);
    running.child.kill('SIGUSR2');
    const result = await running.exited(30_000);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr, '');
    const last = JSON.parse(result.stdout.trimEnd().split('\n').at(-1)!) as Record<string, unknown>;
    assert.equal(last['level'], 60);
    assert.equal(last['event'], 'unhandled_rejection');
    assert.equal(last['msg'], 'boom in a promise (unexpected: YGG_DEBUG=1 shows the stack trace); exiting');
  });
});
