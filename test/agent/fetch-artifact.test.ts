import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ArtifactDigestError, ArtifactFetchError, fetchArtifact } from '../../src/agent/fetch-artifact.js';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'ygg-fetch-'));
after(() => fs.rm(scratch, { recursive: true, force: true }));

let dirCounter = 0;
async function freshDir(): Promise<string> {
  const dir = path.join(scratch, `case-${++dirCounter}`);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

/** A real HTTP server: routes by path, counts requests per path. */
async function startServer(routes: Record<string, (response: http.ServerResponse) => void>) {
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    requests.push(request.url ?? '');
    const route = routes[request.url ?? ''];
    if (route) route(response);
    else response.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, requests, close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

async function assertCacheHoldsOnly(cacheDir: string, names: string[]) {
  const entries = await fs.readdir(cacheDir).catch(() => []);
  assert.deepEqual(entries.sort(), names.sort());
}

test('file:// URL: copies into the cache by digest, read-only, and serves later calls from it', async () => {
  const dir = await freshDir();
  const source = path.join(dir, 'artifact.bin');
  await fs.writeFile(source, 'release bytes');
  const digest = sha256('release bytes');
  const cacheDir = path.join(dir, 'cache');
  const cached = await fetchArtifact({ url: pathToFileURL(source).href, sha256: digest }, cacheDir);
  assert.equal(cached, path.join(cacheDir, digest));
  assert.equal(await fs.readFile(cached, 'utf8'), 'release bytes');
  assert.equal((await fs.stat(cached)).mode & 0o777, 0o444);
  await assertCacheHoldsOnly(cacheDir, [digest, `${digest}.verified`]);
  // The source is gone: the cache answers.
  await fs.rm(source);
  assert.equal(await fetchArtifact({ url: pathToFileURL(source).href, sha256: digest }, cacheDir), cached);
});

test('wrong sha256: ArtifactDigestError with expected and actual, and nothing left in the cache', async () => {
  const dir = await freshDir();
  const source = path.join(dir, 'artifact.bin');
  await fs.writeFile(source, 'tampered');
  const expected = sha256('original');
  const cacheDir = path.join(dir, 'cache');
  await assert.rejects(fetchArtifact({ url: pathToFileURL(source).href, sha256: expected }, cacheDir), (error: unknown) => {
    assert.ok(error instanceof ArtifactDigestError);
    assert.equal(error.code, 'E_ARTIFACT_DIGEST');
    assert.equal(error.expected, expected);
    assert.equal(error.actual, sha256('tampered'));
    assert.match(error.message, new RegExp(`expected ${expected}, got ${sha256('tampered')}`));
    return true;
  });
  await assertCacheHoldsOnly(cacheDir, []);
});

test('http: downloads once, then the cache answers without a request', async () => {
  const body = Buffer.alloc(300_000, 7);
  const server = await startServer({ '/a.tgz': (response) => response.writeHead(200).end(body) });
  try {
    const cacheDir = path.join(await freshDir(), 'cache');
    const ref = { url: `${server.base}/a.tgz`, sha256: sha256(body) };
    const first = await fetchArtifact(ref, cacheDir);
    assert.deepEqual(await fs.readFile(first), body);
    assert.equal(await fetchArtifact(ref, cacheDir), first);
    assert.deepEqual(server.requests, ['/a.tgz']);
  } finally {
    await server.close();
  }
});

test('a cached file changed on disk is rehashed, found wrong, and fetched again', async () => {
  const server = await startServer({ '/a': (response) => response.writeHead(200).end('good') });
  try {
    const cacheDir = path.join(await freshDir(), 'cache');
    const ref = { url: `${server.base}/a`, sha256: sha256('good') };
    const cached = await fetchArtifact(ref, cacheDir);
    await fs.chmod(cached, 0o644);
    await fs.writeFile(cached, 'evil');
    assert.equal(await fetchArtifact(ref, cacheDir), cached);
    assert.equal(await fs.readFile(cached, 'utf8'), 'good');
    assert.equal(server.requests.length, 2);
  } finally {
    await server.close();
  }
});

test('http errors are typed: 404 is final, 503 is retryable; URL credentials go in a header, never in a message', async () => {
  let authorization: string | undefined;
  const server = await startServer({
    '/busy': (response) => response.writeHead(503).end(),
    '/private': (response) => {
      authorization = response.req.headers.authorization;
      response.writeHead(200).end('private');
    },
  });
  try {
    const cacheDir = path.join(await freshDir(), 'cache');
    const url = server.base.replace('http://', 'http://user:secret@');
    await assert.rejects(fetchArtifact({ url: `${url}/missing`, sha256: sha256('x') }, cacheDir), (error: unknown) => {
      assert.ok(error instanceof ArtifactFetchError);
      assert.deepEqual([error.code, error.status, error.retryable], ['E_ARTIFACT_FETCH', 404, false]);
      assert.ok(!error.message.includes('secret'), error.message);
      return true;
    });
    await assert.rejects(fetchArtifact({ url: `${server.base}/busy`, sha256: sha256('x') }, cacheDir), (error: unknown) => {
      assert.ok(error instanceof ArtifactFetchError);
      assert.deepEqual([error.code, error.status, error.retryable], ['E_ARTIFACT_FETCH', 503, true]);
      return true;
    });
    await assertCacheHoldsOnly(cacheDir, []);
    // Credentials in the URL become basic auth.
    await fetchArtifact({ url: `${url}/private`, sha256: sha256('private') }, cacheDir);
    assert.equal(authorization, `Basic ${Buffer.from('user:secret').toString('base64')}`);
  } finally {
    await server.close();
  }
});

test('a stalled download times out, and an abort by the caller is the caller\'s error; no partial file stays', async () => {
  const server = await startServer({
    '/slow': (response) => {
      response.writeHead(200, { 'Content-Length': '1000000' });
      response.write(Buffer.alloc(1000)); // then nothing more
    },
  });
  try {
    const cacheDir = path.join(await freshDir(), 'cache');
    const ref = { url: `${server.base}/slow`, sha256: sha256('x') };
    await assert.rejects(fetchArtifact(ref, cacheDir, { timeoutMs: 300 }), (error: unknown) => {
      assert.ok(error instanceof ArtifactFetchError);
      assert.deepEqual([error.code, error.retryable], ['E_ARTIFACT_TIMEOUT', true]);
      return true;
    });
    await assertCacheHoldsOnly(cacheDir, []);
    const controller = new AbortController();
    const reason = new Error('agent shutting down');
    setTimeout(() => controller.abort(reason), 200);
    await assert.rejects(fetchArtifact(ref, cacheDir, { signal: controller.signal }), (error: unknown) => error === reason);
    await assertCacheHoldsOnly(cacheDir, []);
  } finally {
    await server.close();
  }
});

test('unsupported schemes, missing files and refused connections are typed', async () => {
  const dir = await freshDir();
  const cacheDir = path.join(dir, 'cache');
  const digest = sha256('x');
  await assert.rejects(fetchArtifact({ url: 'ftp://example.com/a', sha256: digest }, cacheDir), { code: 'E_ARTIFACT_URL' });
  await assert.rejects(fetchArtifact({ url: 'not a url', sha256: digest }, cacheDir), { code: 'E_ARTIFACT_URL' });
  await assert.rejects(fetchArtifact({ url: pathToFileURL(path.join(dir, 'nope')).href, sha256: digest }, cacheDir), { code: 'E_ARTIFACT_FETCH', retryable: false });
  const server = await startServer({});
  await server.close();
  await assert.rejects(fetchArtifact({ url: `${server.base}/a`, sha256: digest }, cacheDir), { code: 'E_ARTIFACT_FETCH', retryable: true });
  await assert.rejects(fetchArtifact({ url: `${server.base}/a`, sha256: '../../etc/passwd' }, cacheDir), { code: 'E_AGENT_LAYOUT' });
  await assertCacheHoldsOnly(cacheDir, []);
});

/**
 * What a keep-alive race looks like from the client: the server closes a connection the client
 * reuses, as the request arrives (its idle timer fired first), so the request gets no response at
 * all. `closeReused`: how many such requests the server drops before it serves one.
 */
async function startClosingServer(body: string, closeReused: number) {
  const requests: { reused: boolean; dropped: boolean }[] = [];
  const served = new WeakMap<object, number>();
  let dropped = 0;
  const server = http.createServer((request, response) => {
    const count = (served.get(request.socket) ?? 0) + 1;
    served.set(request.socket, count);
    const drop = count > 1 && dropped < closeReused;
    requests.push({ reused: count > 1, dropped: drop });
    if (drop) {
      dropped++;
      request.socket.destroy();
      return;
    }
    response.writeHead(200, { 'content-length': String(Buffer.byteLength(body)) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, requests, close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

test('a request sent down a kept-alive connection the server just closed is sent again once, on a fresh one', async () => {
  const dir = await freshDir();
  const server = await startClosingServer('artifact', 1);
  try {
    await fetchArtifact({ url: `${server.base}/first`, sha256: sha256('artifact') }, path.join(dir, 'a'));
    // Another cache: the same bytes are fetched again, down the connection the first fetch left open.
    const cached = await fetchArtifact({ url: `${server.base}/second`, sha256: sha256('artifact') }, path.join(dir, 'b'));
    assert.equal(await fs.readFile(cached, 'utf8'), 'artifact');
    assert.deepEqual(server.requests, [
      { reused: false, dropped: false },
      { reused: true, dropped: true },
      { reused: false, dropped: false },
    ]);
  } finally {
    await server.close();
  }
});

test('a server that closes every connection fails the fetch, retryable, after two requests', async () => {
  const dir = await freshDir();
  const server = await startServer({ '/closed': (response) => response.socket?.destroy() });
  try {
    await assert.rejects(fetchArtifact({ url: `${server.base}/closed`, sha256: sha256('artifact') }, dir), { code: 'E_ARTIFACT_FETCH', retryable: true, message: /other side closed/ });
    assert.deepEqual(server.requests, ['/closed', '/closed']);
  } finally {
    await server.close();
  }
});
