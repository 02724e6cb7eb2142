// The event stream on a real HTTP server with many real clients; the mirror's changes are fed by
// hand, so timing and counts are exact.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { MirrorChange } from '../../../src/controller/fleet-informer.js';
import { EventStream, type EventStreamOptions } from '../../../src/server/console/event-stream.js';
import type { ChangeSummary } from '../../../src/server/console/change-set.js';
import { keyLayout } from '../../../src/store/keys.js';
import { waitUntil } from '../../fixtures/controller-harness.js';
import { openEventStream } from '../../fixtures/sse-client.js';

const layout = keyLayout('/ygg/v1');

async function serve(t: { after(fn: () => unknown): void }, options: Partial<EventStreamOptions> = {}) {
  const listeners = new Set<(change: MirrorChange) => void>();
  let describes = 0;
  const stream = new EventStream({
    layout,
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    snapshot: () => ({ hello: 'snapshot' }),
    describe: (changed: ChangeSummary) => {
      describes++;
      return { changed };
    },
    debounceMs: 50,
    ...options,
  });
  const server: Server = createServer((request, response) => stream.attach(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.after(async () => {
    stream.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { stream, url, listeners, change: (key: string) => listeners.forEach((listener) => listener({ key })), describes: () => describes };
}

test('each client gets a snapshot, then one coalesced change for a burst, described once for all', async (t) => {
  const { url, change, describes, listeners, stream } = await serve(t);
  const clients = await Promise.all(Array.from({ length: 50 }, () => openEventStream(`${url}/api/events`)));
  t.after(() => clients.forEach((client) => client.close()));
  await Promise.all(clients.map((client) => client.next((event) => event.event === 'snapshot')));
  assert.equal(listeners.size, 1, 'one subscription to the mirror, whatever the number of clients');
  assert.equal(stream.clientCount, 50);
  change(layout.status('h1', 'web'));
  change(layout.status('h2', 'web'));
  change(layout.agent('h3'));
  const events = await Promise.all(clients.map((client) => client.next((event) => event.event === 'change')));
  for (const event of events) assert.deepEqual((event.data as { changed: ChangeSummary }).changed, { jobs: ['web'], hosts: ['h1', 'h2', 'h3'], naming: [], status: true, history: false, full: false });
  assert.equal(describes(), 1);
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.ok(clients.every((client) => client.events.filter((event) => event.event === 'change').length === 1), 'one event for the burst');
  assert.ok(clients.every((client) => Number(client.events[1]!.id) > Number(client.events[0]!.id)), 'ids grow');
});

test('a steady stream of changes still flushes every debounce period, not only once it stops', async (t) => {
  const { url, change } = await serve(t, { debounceMs: 100 });
  const client = await openEventStream(`${url}/api/events`);
  t.after(() => client.close());
  await client.next((event) => event.event === 'snapshot');
  const started = performance.now();
  const ticker = setInterval(() => change(layout.status('h1', 'web')), 20);
  t.after(() => clearInterval(ticker));
  const first = await client.next((event) => event.event === 'change', 1000);
  assert.ok(first.at - started < 400, `first change after ${(first.at - started).toFixed(0)} ms while changes kept coming`);
});

test('heartbeat comments keep idle connections open; a client that leaves is dropped', async (t) => {
  const { url, stream } = await serve(t, { heartbeatMs: 50 });
  const client = await openEventStream(`${url}/api/events`);
  await waitUntil(() => client.comments.filter((comment) => comment === 'heartbeat').length >= 2, 'two heartbeats', 2000);
  client.close();
  await waitUntil(() => stream.clientCount === 0, 'the closed client dropped', 2000);
});

test('a client that stops reading is dropped once too much is queued for it, and the others carry on', async (t) => {
  const big = 'x'.repeat(1 << 20);
  const { url, change, stream } = await serve(t, { debounceMs: 1, maxBufferedBytes: 1 << 20, describe: () => ({ big }) });
  const reader = await openEventStream(`${url}/api/events`);
  t.after(() => reader.close());
  const { port } = new URL(url);
  const stalled = connect(Number(port), '127.0.0.1');
  t.after(() => stalled.destroy());
  await new Promise((resolve) => stalled.once('connect', resolve));
  stalled.write('GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n');
  stalled.pause();
  await waitUntil(() => stream.clientCount === 2, 'both clients attached');
  for (let round = 0; round < 40 && stream.clientCount === 2; round++) {
    change(layout.status('h1', 'web'));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(stream.clientCount, 1, 'the stalled client was dropped');
  const seen = reader.events.length;
  change(layout.status('h2', 'web'));
  await reader.next((event) => event.event === 'change', 2000, seen);
});
