// The watch fan-out bench end to end at a tiny size (real etcd, real grpc-proxy, real worker
// processes), so its figures stay what they claim: every host sees every probe, each agent's own
// watches reach etcd one for one, and the proxy serves the shared key's watches with one or two.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const HOSTS = 6;
const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

interface ModeFigures {
  readonly via: 'direct' | 'proxy';
  readonly server: { readonly watchers: number; readonly sharedKeyWatchers: number; readonly watchStreams: number; readonly leaseKeepAliveStreamsStarted: number };
  readonly missedProbes: number;
  readonly leasesLost: number;
  readonly resyncs: number;
  readonly assignPutToHostMs?: { readonly p50: number };
}

test('bench:fanout: direct, every watch is a watcher on etcd; through the proxy, one stream and the shared key coalesced', { timeout: 120_000 }, async () => {
  const args = ['--import', 'tsx', 'bench/watch-fanout.ts', '--hosts', String(HOSTS), '--workers', '2', '--runs', '2', '--probes', '2', '--idle', '1', '--settle', '1', '--dry'];
  const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: REPO_ROOT, timeout: 110_000 });
  const { modes } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { modes: ModeFigures[] };
  const [direct, proxy] = modes;

  assert.equal(direct?.via, 'direct');
  assert.deepEqual(
    [direct.server.watchers, direct.server.sharedKeyWatchers, direct.server.watchStreams, direct.server.leaseKeepAliveStreamsStarted],
    [3 * HOSTS, HOSTS, HOSTS, HOSTS],
  );
  assert.equal(proxy?.via, 'proxy');
  assert.deepEqual([proxy.server.watchStreams, proxy.server.leaseKeepAliveStreamsStarted], [1, 1]);
  assert.ok(proxy.server.sharedKeyWatchers >= 1 && proxy.server.sharedKeyWatchers <= 2, `sync/current served by ${proxy.server.sharedKeyWatchers} watchers`);
  for (const mode of modes) {
    assert.deepEqual([mode.missedProbes, mode.leasesLost, mode.resyncs], [0, 0, 0], `${mode.via}: missed probes, leases lost, resyncs`);
    assert.ok(mode.assignPutToHostMs !== undefined);
  }
});
