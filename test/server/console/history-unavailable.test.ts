// /api/history is the one console view read from etcd: with etcd unreachable it answers 503 with the
// reason, as /api/status does, instead of a 500 and an error log with a stack trace per request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createConsoleApi } from '../../../src/server/console/console-api.js';
import { createEtcdClient } from '../../../src/store/etcd-connection.js';
import { keyLayout } from '../../../src/store/keys.js';
import { readHistoryPage } from '../../../src/store/read-history.js';
import { startTestServer } from '../start-test-server.js';

test('/api/history with etcd unreachable: 503 with the reason, no request failure logged', async (t) => {
  // Nothing listens on port 1: every read fails the way it does while etcd is down.
  const client = createEtcdClient({ endpoints: ['http://127.0.0.1:1'], dialTimeoutMs: 500 });
  const layout = keyLayout('/history-unavailable/');
  const api = createConsoleApi({
    layout,
    state: () => {
      throw new Error('the history page reads no state');
    },
    subscribe: () => () => undefined,
    readHistory: (limit, before) => readHistoryPage(client, layout, limit, before),
  });
  const server = await startTestServer({ getConsole: () => api });
  t.after(async () => {
    api.close();
    await server.close();
    client.close();
  });
  const response = await fetch(`${server.url}/api/history`);
  const body = (await response.json()) as { error: string; reason: string };
  assert.equal(response.status, 503);
  assert.equal(body.error, 'history unavailable');
  assert.ok(body.reason.length > 0, 'the reason is given');
  assert.deepEqual(server.logs().filter((line) => line.event === 'http_error'), []);
});
