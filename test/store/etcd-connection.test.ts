import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { connectEtcd, createEtcdClient, parseEtcdEndpoints } from '../../src/store/etcd-connection.js';
import { keyLayout } from '../../src/store/keys.js';
import { retryWithBackoff } from '../../src/store/retry-with-backoff.js';
import { anyJson, EtcdStateStore } from '../../src/store/state-store.js';
import { EtcdAuthError, EtcdTlsError, EtcdUnavailableError, StoreError } from '../../src/store/store-errors.js';
import { AUTH_PASSWORD, AUTH_USER, startEtcdWithAuth } from '../fixtures/etcd-auth.js';
import { createTestCertificates, freePort, startEtcd, type EtcdServer, type TestCertificates } from '../fixtures/etcd-server.js';

const hasCode = (code: string) => (error: unknown) => {
  assert.ok(error instanceof StoreError, `expected a StoreError, got ${String(error)}`);
  assert.equal(error.code, code);
  return true;
};

describe('parseEtcdEndpoints', () => {
  test('normalizes a comma-separated list, adding the default port', () => {
    assert.deepEqual(parseEtcdEndpoints('http://127.0.0.1:2379'), ['http://127.0.0.1:2379']);
    assert.deepEqual(parseEtcdEndpoints(' http://etcd-1:12379 , http://etcd-2 '), ['http://etcd-1:12379', 'http://etcd-2:2379']);
    assert.deepEqual(parseEtcdEndpoints('https://[::1]:2379/'), ['https://[::1]:2379']);
  });

  test('rejects bad URLs with a typed error naming the URL', () => {
    for (const text of ['', 'http://a:1,', 'not a url', 'localhost:2379', 'ftp://a:1', 'http://a:1/v3', 'http://a:1,https://b:1']) {
      assert.throws(() => parseEtcdEndpoints(text), (error: unknown) => {
        hasCode('E_ETCD_BAD_URL')(error);
        assert.ok((error as Error).message.includes(`"${text}"`), (error as Error).message);
        return true;
      });
    }
    assert.throws(() => createEtcdClient({ endpoints: ['etcd:2379'] }), hasCode('E_ETCD_BAD_URL'));
    // TLS files with an http endpoint would silently not use TLS
    assert.throws(() => createEtcdClient({ endpoints: ['http://etcd:2379'], tls: { caFile: '/ca.crt' } }), hasCode('E_ETCD_BAD_URL'));
  });
});

describe('an unreachable etcd', () => {
  test('fails the first request quickly with EtcdUnavailableError naming the URL', async () => {
    const startedAt = Date.now();
    await assert.rejects(connectEtcd({ endpoints: ['http://127.0.0.1:1'] }), (error: unknown) => {
      assert.ok(error instanceof EtcdUnavailableError);
      assert.equal(error.code, 'E_ETCD_UNAVAILABLE');
      assert.equal(error.retryable, true);
      assert.equal(error.message, 'etcd at http://127.0.0.1:1 is unreachable: connect ECONNREFUSED 127.0.0.1:1');
      return true;
    });
    assert.ok(Date.now() - startedAt < 1000);

    const client = createEtcdClient({ endpoints: ['http://127.0.0.1:1'] });
    const store = new EtcdStateStore(client, keyLayout());
    await assert.rejects(store.getPrefixJson('/ygg/v1/', anyJson), EtcdUnavailableError);
    await assert.rejects(store.applyBatch([{ put: '/ygg/v1/x', value: 1 }]), EtcdUnavailableError);
    await assert.rejects(store.grantLease(5), EtcdUnavailableError);
    client.close();
  });

  test('retryWithBackoff keeps trying until etcd starts late', async () => {
    const port = await freePort();
    const failures: unknown[] = [];
    let server: EtcdServer | undefined;
    const starting = new Promise<void>((resolve) => setTimeout(resolve, 400)).then(async () => {
      server = await startEtcd({ clientPort: port });
    });
    try {
      const client = await retryWithBackoff(() => connectEtcd({ endpoints: [`http://127.0.0.1:${port}`] }), {
        initialMs: 50,
        maxMs: 200,
        onRetry: (error) => failures.push(error),
      });
      await client.put('late').value('ok');
      assert.equal(await client.get('late').string(), 'ok');
      client.close();
      assert.ok(failures.length >= 2, `${failures.length} retries`);
      assert.ok(failures.every((error) => error instanceof EtcdUnavailableError));
    } finally {
      await starting;
      await server?.stop();
    }
  });

  test('retryWithBackoff stops on abort and does not retry configuration errors', async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    await assert.rejects(
      retryWithBackoff(() => connectEtcd({ endpoints: ['http://127.0.0.1:1'] }), { initialMs: 20, maxMs: 50, signal: abort.signal }),
      (error: unknown) => hasCode('E_RETRY_ABORTED')(error) && (error as Error).cause instanceof EtcdUnavailableError,
    );
    let attempts = 0;
    const wrongPassword = new EtcdAuthError('E_ETCD_AUTH', 'http://x:1', 'bad password');
    await assert.rejects(
      retryWithBackoff(async () => {
        attempts++;
        throw wrongPassword;
      }),
      wrongPassword,
    );
    assert.equal(attempts, 1);
  });
});

describe('user/password authentication (private etcd)', () => {
  let server: EtcdServer;

  before(async () => {
    server = await startEtcdWithAuth();
  });
  after(async () => {
    await server.stop();
  });

  test('the right password works, within the role’s permissions', async () => {
    const client = await connectEtcd({ endpoints: [server.url], auth: { user: AUTH_USER, password: AUTH_PASSWORD } });
    const store = new EtcdStateStore(client, keyLayout());
    await store.applyBatch([{ put: store.layout.syncCurrent, value: { ok: true } }]);
    assert.deepEqual((await store.getJson(store.layout.syncCurrent, anyJson)).entry?.value, { ok: true });
    await assert.rejects(store.applyBatch([{ put: '/elsewhere', value: 1 }]), hasCode('E_ETCD_PERMISSION'));
    client.close();
  });

  test('a wrong or missing password fails with a typed error', async () => {
    await assert.rejects(connectEtcd({ endpoints: [server.url], auth: { user: AUTH_USER, password: 'wrong' } }), (error: unknown) => {
      assert.ok(error instanceof EtcdAuthError);
      assert.equal(error.code, 'E_ETCD_AUTH');
      assert.equal(error.retryable, false);
      assert.match(error.message, /invalid user ID or password/);
      return true;
    });
    await assert.rejects(connectEtcd({ endpoints: [server.url] }), hasCode('E_ETCD_AUTH'));
  });
});

describe('TLS (private etcd on https, client certificates required)', () => {
  let certificates: TestCertificates;
  let server: EtcdServer;

  before(async () => {
    certificates = createTestCertificates();
    server = await startEtcd({ tls: certificates });
  });
  after(async () => {
    await server.stop();
    rmSync(certificates.dir, { recursive: true, force: true });
  });

  test('connects with the CA file and a client certificate', async () => {
    const { caFile, clientCertFile: certFile, clientKeyFile: keyFile } = certificates;
    assert.ok(server.url.startsWith('https://'));
    const client = await connectEtcd({ endpoints: [server.url], tls: { caFile, certFile, keyFile } });
    await client.put('tls').value('yes');
    assert.equal(await client.get('tls').string(), 'yes');
    client.close();
  });

  test('fails without the CA file (EtcdTlsError), or over plain http (EtcdUnavailableError)', async () => {
    const { clientCertFile: certFile, clientKeyFile: keyFile } = certificates;
    await assert.rejects(connectEtcd({ endpoints: [server.url], tls: { certFile, keyFile } }), (error: unknown) => {
      assert.ok(error instanceof EtcdTlsError);
      assert.equal(error.code, 'E_ETCD_TLS');
      assert.match(error.message, /certificate/);
      return true;
    });
    await assert.rejects(connectEtcd({ endpoints: [server.url.replace('https:', 'http:')] }), EtcdUnavailableError);
  });
});
