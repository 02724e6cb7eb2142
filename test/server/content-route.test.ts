import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, test } from 'node:test';
import { startTestServer } from './start-test-server.js';

const bytes = new TextEncoder().encode('#!/bin/sh\necho artifact\n');
const digest = createHash('sha256').update(bytes).digest('hex');
const server = await startTestServer({ getContent: async (sha256) => (sha256 === digest ? bytes : undefined) });
after(() => server.close());

test('serves a referenced file by its sha256, immutable', async () => {
  const response = await fetch(`${server.url}/content/${digest}`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'application/octet-stream');
  assert.equal(response.headers.get('etag'), `"${digest}"`);
  assert.match(response.headers.get('cache-control') ?? '', /immutable/);
  assert.deepEqual(new Uint8Array(await response.arrayBuffer()), bytes);
});

test('an unknown digest is 404, a malformed one 400, a path is never served', async () => {
  assert.equal((await fetch(`${server.url}/content/${'0'.repeat(64)}`)).status, 404);
  assert.equal((await fetch(`${server.url}/content/${digest.toUpperCase()}`)).status, 400);
  assert.equal((await fetch(`${server.url}/content/..%2F..%2Fetc%2Fpasswd`)).status, 400);
  assert.equal((await fetch(`${server.url}/content/${digest}`, { method: 'POST' })).status, 404);
});
