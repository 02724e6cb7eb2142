// The mistakes in how etcd is addressed that waiting cannot cure: credentials in the URL, an address
// where something else answers. Each is a typed error at once, never a retry loop or a stack trace.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectEtcd, parseEtcdEndpoints } from '../../src/store/etcd-connection.js';
import { describeCause } from '../../src/store/map-etcd-error.js';
import { retryWithBackoff } from '../../src/store/retry-with-backoff.js';
import { EtcdNotEtcdError, EtcdUnavailableError, StoreError } from '../../src/store/store-errors.js';
import { startNotEtcdServers, type NotEtcdServers } from '../fixtures/not-etcd-servers.js';

test('credentials in an etcd URL are refused without echoing them', () => {
  for (const text of ['http://controller:s3cret@127.0.0.1:2379', 'http://127.0.0.1:2379,https://root:s3cret@etcd-2:2379']) {
    assert.throws(() => parseEtcdEndpoints(text), (error: unknown) => {
      assert.ok(error instanceof StoreError);
      assert.equal(error.code, 'E_ETCD_URL_CREDENTIALS');
      assert.doesNotMatch(error.message, /s3cret/);
      assert.match(error.message, /\/\/\*\*\*@/);
      return true;
    });
  }
  // Any other complaint about the URL list hides them too.
  assert.throws(() => parseEtcdEndpoints('http://u:s3cret@a:1,'), (error: unknown) => (error as StoreError).code === 'E_ETCD_BAD_URL' && !(error as Error).message.includes('s3cret'));
});

test('describeCause drops the time grpc-js stamps on some messages', () => {
  assert.equal(describeCause('14 UNAVAILABLE: Protocol error (2026-11-28T08:20:10.566Z)'), 'Protocol error');
  assert.equal(describeCause('12 UNIMPLEMENTED: Received HTTP status code 404'), 'Received HTTP status code 404');
});

describe('an etcd address where something else answers', () => {
  let fakes: NotEtcdServers;
  before(async () => {
    fakes = await startNotEtcdServers();
  });
  after(() => fakes.close());

  test('is an EtcdNotEtcdError naming the address, not retried', async () => {
    for (const { name, url } of fakes.servers) {
      let attempts = 0;
      const startedAt = Date.now();
      await assert.rejects(
        retryWithBackoff(() => {
          attempts++;
          return connectEtcd({ endpoints: [url], dialTimeoutMs: 3000 });
        }, { initialMs: 10, maxMs: 20, signal: AbortSignal.timeout(5000) }),
        (error: unknown) => {
          assert.ok(error instanceof EtcdNotEtcdError, `${name}: ${String(error)}`);
          assert.equal(error.code, 'E_ETCD_NOT_ETCD');
          assert.equal(error.retryable, false);
          assert.match(error.message, new RegExp(`^the server at ${url} is not etcd: \\S`));
          assert.doesNotMatch(error.message, /\d{4}-\d\d-\d\dT/, 'no grpc timestamp');
          return true;
        },
      );
      assert.equal(attempts, 1, name);
      assert.ok(Date.now() - startedAt < 5000, `${name}: ${Date.now() - startedAt} ms`);
    }
  });

  test('a closed port is still "unavailable": etcd may be starting', async () => {
    const closed = new URL(fakes.servers[0]!.url);
    await fakes.close();
    await assert.rejects(connectEtcd({ endpoints: [closed.origin] }), EtcdUnavailableError);
  });
});
