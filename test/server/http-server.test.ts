import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { HttpServerError, startHttpServer, type Readiness } from '../../src/server/http-server.js';
import { MAX_WEBHOOK_BODY_BYTES } from '../../src/server/webhook-verification.js';
import { SAMPLE_STATUS, SECRET, startTestServer, type TestServer } from './start-test-server.js';

const PUSH = JSON.stringify({ ref: 'refs/heads/main', after: 'f'.repeat(40), before: '0'.repeat(40) });

function sign(body: string, secret = SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

async function started(t: { after(fn: () => Promise<void>): void }, overrides: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const server = await startTestServer(overrides);
  t.after(() => server.close());
  return server;
}

function postHook(server: TestServer, body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${server.url}/hooks/git`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
}

function rejectionLogs(server: TestServer): Record<string, unknown>[] {
  return server.logs().filter((line) => line.event === 'webhook_rejected');
}

test('GET /healthz is 200 "ok"', async (t) => {
  const server = await started(t);
  const response = await fetch(`${server.url}/healthz`);
  assert.equal(response.status, 200);
  assert.equal(await response.text(), 'ok\n');
});

test('GET /readyz is 503 with the reason until isReady flips, then 200', async (t) => {
  let readiness: Readiness = { ready: false, reason: 'no commit loaded yet' };
  const server = await started(t, { isReady: () => readiness });
  const before = await fetch(`${server.url}/readyz`);
  assert.equal(before.status, 503);
  assert.match(await before.text(), /no commit loaded yet/);
  readiness = { ready: true };
  const after = await fetch(`${server.url}/readyz`);
  assert.equal(after.status, 200);
  await after.text();
});

test('GET /readyz is 503 when isReady itself throws', async (t) => {
  const server = await started(t, { isReady: async () => { throw new Error('etcd unreachable'); } });
  const response = await fetch(`${server.url}/readyz`);
  assert.equal(response.status, 503);
  assert.match(await response.text(), /etcd unreachable/);
});

test('GET /metrics serves the Prometheus text format with ygg_ metrics and default metrics', async (t) => {
  const server = await started(t);
  server.options.metrics.countReconcile('applied', 0.1);
  server.options.metrics.countReconcile('applied', 0.2);
  const response = await fetch(`${server.url}/metrics`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const text = await response.text();
  assert.match(text, /^# TYPE ygg_reconcile_total counter$/m);
  assert.match(text, /^ygg_reconcile_total\{result="applied"\} 2$/m);
  assert.match(text, /^ygg_process_resident_memory_bytes \d+/m);
  assert.match(text, /^ygg_nodejs_eventloop_lag_seconds /m);
});

test('GET /api/status returns the injected status as JSON', async (t) => {
  const server = await started(t, { getStatus: async () => SAMPLE_STATUS });
  const response = await fetch(`${server.url}/api/status`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.deepEqual(await response.json(), SAMPLE_STATUS);
});

test('GET /api/status is 503 with a JSON error when getStatus throws', async (t) => {
  const server = await started(t, { getStatus: () => { throw new Error('not the leader'); } });
  const response = await fetch(`${server.url}/api/status`);
  assert.equal(response.status, 503);
  assert.deepEqual(await response.json(), { error: 'status unavailable', reason: 'not the leader' });
});

test('unknown paths are 404 JSON; wrong methods are 405 with Allow', async (t) => {
  const server = await started(t);
  const missing = await fetch(`${server.url}/nope`);
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: 'not found', path: '/nope' });
  const post = await fetch(`${server.url}/healthz`, { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
  await post.json();
  const get = await fetch(`${server.url}/hooks/git`);
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST');
  await get.json();
  const head = await fetch(`${server.url}/healthz`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
});

test('a query string does not change the route', async (t) => {
  const server = await started(t);
  const response = await fetch(`${server.url}/healthz?verbose=1`);
  assert.equal(response.status, 200);
  await response.text();
});

test('POST /hooks/git with a valid GitHub signature is 202 and calls onPush with ref and after', async (t) => {
  const server = await started(t);
  const response = await postHook(server, PUSH, { 'x-hub-signature-256': sign(PUSH), 'x-github-event': 'push', 'x-github-delivery': 'abc' });
  assert.equal(response.status, 202);
  assert.deepEqual(await response.json(), { accepted: true, provider: 'github', event: 'push', ref: 'refs/heads/main', after: 'f'.repeat(40) });
  assert.deepEqual(server.pushes, [{ provider: 'github', event: 'push', ref: 'refs/heads/main', after: 'f'.repeat(40), deliveryId: 'abc' }]);
  const accepted = server.logs().find((line) => line.event === 'webhook_accepted');
  assert.equal(accepted?.after, 'f'.repeat(40));
  assert.match(await (await fetch(`${server.url}/metrics`)).text(), /^ygg_webhooks_total\{provider="github",result="accepted"\} 1$/m);
});

const unauthorised: [string, Record<string, string>, string | undefined, string][] = [
  ['a wrong signature', { 'x-hub-signature-256': sign(PUSH, 'not the secret') }, SECRET, 'E_WEBHOOK_BAD_SIGNATURE'],
  ['no signature header', {}, SECRET, 'E_WEBHOOK_UNSIGNED'],
  ['the signature of another body', { 'x-hub-signature-256': sign(PUSH.replace('main', 'attacker')) }, SECRET, 'E_WEBHOOK_BAD_SIGNATURE'],
  ['a malformed signature', { 'x-hub-signature-256': 'sha256=xyz' }, SECRET, 'E_WEBHOOK_MALFORMED_SIGNATURE'],
  ['no secret configured', { 'x-hub-signature-256': sign(PUSH) }, undefined, 'E_WEBHOOK_NO_SECRET'],
  ['a wrong GitLab token', { 'x-gitlab-token': 'guess', 'x-gitlab-event': 'Push Hook' }, SECRET, 'E_WEBHOOK_BAD_SIGNATURE'],
];

for (const [name, headers, secret, code] of unauthorised) {
  test(`POST /hooks/git with ${name} is 401, logged, and does not trigger`, async (t) => {
    const server = await started(t, { webhookSecret: secret });
    const response = await postHook(server, PUSH, headers);
    assert.equal(response.status, 401);
    // The reason is for the operator's log, not for a caller without the secret.
    assert.deepEqual(await response.json(), { error: 'unauthorized' });
    assert.deepEqual(server.pushes, []);
    const logs = rejectionLogs(server);
    assert.equal(logs.length, 1);
    assert.equal(logs[0]!.code, code);
    assert.equal(logs[0]!.level, 40);
    assert.equal(typeof logs[0]!.reason, 'string');
    assert.match(await (await fetch(`${server.url}/metrics`)).text(), /^ygg_webhooks_total\{provider="\w+",result="rejected"\} 1$/m);
  });
}

test('POST /hooks/git with the right GitLab token is 202 and triggers', async (t) => {
  const server = await started(t);
  const response = await postHook(server, PUSH, { 'x-gitlab-token': SECRET, 'x-gitlab-event': 'Push Hook' });
  assert.equal(response.status, 202);
  await response.json();
  assert.deepEqual(server.pushes, [{ provider: 'gitlab', event: 'Push Hook', ref: 'refs/heads/main', after: 'f'.repeat(40) }]);
});

test('a failing onPush is logged but the webhook is still accepted', async (t) => {
  const server = await started(t, { onPush: async () => { throw new Error('queue closed'); } });
  const response = await postHook(server, PUSH, { 'x-hub-signature-256': sign(PUSH), 'x-github-event': 'push' });
  assert.equal(response.status, 202);
  await response.json();
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(server.logs().some((line) => line.event === 'webhook_trigger_failed' && line.level === 50));
});

test('a declared oversize webhook body is refused with 413 before it is read', async (t) => {
  const server = await started(t);
  const { port } = new URL(server.url);
  const status = await new Promise<number>((resolve, reject) => {
    // Declare the size but send nothing: the server must answer from the header alone.
    const request = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/hooks/git', headers: { 'content-length': String(MAX_WEBHOOK_BODY_BYTES + 1) } });
    request.on('response', (response) => { response.resume(); resolve(response.statusCode ?? 0); request.destroy(); });
    request.on('error', reject);
    request.flushHeaders();
  });
  assert.equal(status, 413);
  assert.deepEqual(server.pushes, []);
  assert.equal(rejectionLogs(server)[0]?.code, 'E_WEBHOOK_TOO_LARGE');
});

test('a chunked webhook body that grows past the limit is refused with 413', async (t) => {
  const server = await started(t);
  const chunk = new Uint8Array(1024 * 1024).fill(0x20);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent++ < 8) controller.enqueue(chunk);
      else controller.close();
    },
  });
  const response = await fetch(`${server.url}/hooks/git`, { method: 'POST', body, duplex: 'half' } as RequestInit).catch((error: unknown) => error);
  // Either the 413 arrives, or the connection is cut mid-upload; never a 2xx/401, never a trigger.
  if (response instanceof Response) assert.equal(response.status, 413);
  assert.deepEqual(server.pushes, []);
  assert.equal(rejectionLogs(server)[0]?.code, 'E_WEBHOOK_TOO_LARGE');
});

test('the listening event is logged and close() is idempotent', async () => {
  const server = await startTestServer();
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(server.logs()[0]?.event, 'http_listening');
  await Promise.all([server.close(), server.close()]);
  await assert.rejects(fetch(`${server.url}/healthz`));
});

test('an address in use is an HttpServerError with code E_HTTP_LISTEN', async (t) => {
  const first = await started(t);
  const port = Number(new URL(first.url).port);
  await assert.rejects(
    startHttpServer({ ...first.options, port }),
    (error: unknown) => error instanceof HttpServerError && error.code === 'E_HTTP_LISTEN' && error.port === port,
  );
});

test('the console API answers 503 while the controller starts, 404 on a server without a console; / is the console page', async (t) => {
  const starting = await started(t, { getConsole: () => undefined });
  const early = await fetch(`${starting.url}/api/tree`);
  assert.equal(early.status, 503);
  assert.match(((await early.json()) as { reason: string }).reason, /starting/);
  const bare = await started(t);
  assert.equal((await fetch(`${bare.url}/api/tree`)).status, 404);
  const page = await fetch(`${bare.url}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /\/console\/js\/app\.js/);
  assert.equal((await fetch(`${bare.url}/api/status`)).status, 200, '/api/status is not the console\'s');
});
