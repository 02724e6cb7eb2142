import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { MAX_WEBHOOK_BODY_BYTES, verifyWebhook } from '../../src/server/webhook-verification.js';

const SECRET = 'It’s a Secret to Everybody';
const PUSH = JSON.stringify({ ref: 'refs/heads/main', after: 'a'.repeat(40), before: 'b'.repeat(40) });

function sign(body: string | Buffer, secret = SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function github(body: string, signature: string | undefined, extra: Record<string, string> = {}) {
  const headers: Record<string, string> = { 'x-github-event': 'push', 'x-github-delivery': 'd-1', ...extra };
  if (signature !== undefined) headers['x-hub-signature-256'] = signature;
  return { headers, body: Buffer.from(body) };
}

test('GitHub: the documented test vector verifies', () => {
  // From GitHub's "Validating webhook deliveries" page: secret, payload and expected signature.
  const result = verifyWebhook(
    github('Hello, World!', 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17'),
    "It's a Secret to Everybody",
  );
  assert.equal(result.ok, true);
});

test('GitHub: a valid signature yields provider, event, ref, after and delivery id', () => {
  const result = verifyWebhook(github(PUSH, sign(PUSH)), SECRET);
  assert.deepEqual(result, { ok: true, provider: 'github', event: 'push', ref: 'refs/heads/main', after: 'a'.repeat(40), deliveryId: 'd-1' });
});

test('GitHub: the hex digest is accepted in upper case too', () => {
  assert.equal(verifyWebhook(github(PUSH, sign(PUSH).toUpperCase().replace('SHA256=', 'sha256=')), SECRET).ok, true);
});

test('GitHub: form-encoded payloads are parsed for ref and after', () => {
  const body = `payload=${encodeURIComponent(PUSH)}`;
  const result = verifyWebhook(github(body, sign(body)), SECRET);
  assert.ok(result.ok);
  assert.equal(result.ref, 'refs/heads/main');
});

test('GitHub: a verified non-JSON body is accepted without ref/after', () => {
  const result = verifyWebhook(github('not json', sign('not json'), { 'x-github-event': 'ping' }), SECRET);
  assert.deepEqual(result, { ok: true, provider: 'github', event: 'ping', deliveryId: 'd-1' });
});

const rejections: [string, ReturnType<typeof github>, string | undefined, string][] = [
  ['wrong secret', github(PUSH, sign(PUSH, 'other secret')), SECRET, 'E_WEBHOOK_BAD_SIGNATURE'],
  ['signature of another body', github(PUSH, sign(PUSH.replace('main', 'evil'))), SECRET, 'E_WEBHOOK_BAD_SIGNATURE'],
  ['missing header', github(PUSH, undefined), SECRET, 'E_WEBHOOK_UNSIGNED'],
  ['only the SHA-1 header', github(PUSH, undefined, { 'x-hub-signature': 'sha1=abc' }), SECRET, 'E_WEBHOOK_UNSIGNED'],
  ['no sha256= prefix', github(PUSH, sign(PUSH).slice('sha256='.length)), SECRET, 'E_WEBHOOK_MALFORMED_SIGNATURE'],
  ['truncated digest', github(PUSH, sign(PUSH).slice(0, -2)), SECRET, 'E_WEBHOOK_MALFORMED_SIGNATURE'],
  ['not hex', github(PUSH, `sha256=${'z'.repeat(64)}`), SECRET, 'E_WEBHOOK_MALFORMED_SIGNATURE'],
  ['no secret configured', github(PUSH, sign(PUSH)), undefined, 'E_WEBHOOK_NO_SECRET'],
  ['empty secret configured', github(PUSH, sign(PUSH, '')), '', 'E_WEBHOOK_NO_SECRET'],
];

for (const [name, request, secret, code] of rejections) {
  test(`GitHub: rejected when ${name}`, () => {
    const result = verifyWebhook(request, secret);
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.equal(result.code, code);
    assert.ok(result.reason.length > 0);
  });
}

test('no secret: the reason says so', () => {
  const result = verifyWebhook(github(PUSH, sign(PUSH)), undefined);
  assert.ok(!result.ok);
  assert.match(result.reason, /no webhook secret is configured/);
});

test('a duplicated signature header is rejected, not resolved to one of them', () => {
  const result = verifyWebhook({ headers: { 'x-hub-signature-256': [sign(PUSH), sign(PUSH)] }, body: Buffer.from(PUSH) }, SECRET);
  assert.ok(!result.ok);
  assert.equal(result.code, 'E_WEBHOOK_MALFORMED_SIGNATURE');
});

test('bodies over 5 MB are rejected before hashing', () => {
  const body = Buffer.alloc(MAX_WEBHOOK_BODY_BYTES + 1, 0x20);
  const result = verifyWebhook({ headers: { 'x-hub-signature-256': sign(body) }, body }, SECRET);
  assert.ok(!result.ok);
  assert.equal(result.code, 'E_WEBHOOK_TOO_LARGE');
  const atLimit = Buffer.alloc(MAX_WEBHOOK_BODY_BYTES, 0x20);
  assert.equal(verifyWebhook({ headers: { 'x-hub-signature-256': sign(atLimit) }, body: atLimit }, SECRET).ok, true);
});

test('GitLab: the right token is accepted with ref and after', () => {
  const result = verifyWebhook({ headers: { 'x-gitlab-token': SECRET, 'x-gitlab-event': 'Push Hook' }, body: Buffer.from(PUSH) }, SECRET);
  assert.deepEqual(result, { ok: true, provider: 'gitlab', event: 'Push Hook', ref: 'refs/heads/main', after: 'a'.repeat(40) });
});

for (const token of ['wrong', '', `${SECRET}x`, SECRET.slice(0, -1)]) {
  test(`GitLab: token ${JSON.stringify(token)} is rejected`, () => {
    const result = verifyWebhook({ headers: { 'x-gitlab-token': token }, body: Buffer.from(PUSH) }, SECRET);
    assert.deepEqual(result, { ok: false, code: 'E_WEBHOOK_BAD_SIGNATURE', reason: 'X-Gitlab-Token does not match the configured secret', provider: 'gitlab' });
  });
}

test('GitLab: no secret configured rejects even a matching empty token', () => {
  const result = verifyWebhook({ headers: { 'x-gitlab-token': '' }, body: Buffer.from(PUSH) }, '');
  assert.ok(!result.ok);
  assert.equal(result.code, 'E_WEBHOOK_NO_SECRET');
});
