import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerStatus } from '../../src/server/controller-status.js';
import { renderStatusPage, renderStatusUnavailablePage, STATUS_PAGE_HISTORY_LIMIT } from '../../src/server/status-page.js';
import { SAMPLE_STATUS, startTestServer } from './start-test-server.js';

const NOW = new Date('2024-05-01T10:05:00.000Z');
const HOSTILE = 'fix "quotes" <script>alert(1)</script>';

const STATUS: ControllerStatus = {
  commit: { sha: 'c0ffee0000c0ffee0000c0ffee0000c0ffee0000', author: 'Mallory <m@example.com>', message: HOSTILE, time: '2024-05-01T10:02:00.000Z' },
  result: 'Rejected',
  rejected: { sha: 'bad0000000bad0000000bad0000000bad0000000', errors: ['jobs.yaml:3:5: unknown host "<h9>"'] },
  jobs: [
    { name: 'zeta', desired: 2, healthy: 2, progressing: 0, state: 'Healthy', version: '1.0.0' },
    { name: 'alpha', desired: 2, healthy: 2, progressing: 0, state: 'Healthy', version: '1.0.0' },
    { name: 'broken', desired: 3, healthy: 1, progressing: 0, state: 'Degraded', version: '2.0.0' },
  ],
  lostHosts: ['lg-im-02', 'lg-im-01'],
  history: [
    { time: '2024-05-01T09:00:00.000Z', sha: '1111111111', author: 'Ada', message: 'older', outcome: 'applied', actions: 4 },
    { time: '2024-05-01T10:00:00.000Z', sha: '2222222222', author: 'Bob', message: 'newer\n\nbody', outcome: 'applied', actions: 1 },
  ],
};

test('the page escapes every value from the repo: no raw script tag, no raw quote in text', () => {
  const html = renderStatusPage(STATUS, { now: NOW });
  assert.ok(!html.includes('<script>'));
  assert.ok(!html.includes(HOSTILE));
  assert.ok(html.includes('fix &quot;quotes&quot; &lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(html.includes('Mallory &lt;m@example.com&gt;'));
  assert.ok(html.includes('unknown host &quot;&lt;h9&gt;&quot;'));
});

test('the page refreshes itself every 10 s and shows result, commit, rejection, jobs, lost hosts, history', () => {
  const html = renderStatusPage(STATUS, { now: NOW });
  assert.match(html, /<meta http-equiv="refresh" content="10">/);
  assert.match(html, /<span class="badge bad">Rejected<\/span>/);
  assert.match(html, /<code title="c0ffee0000c0ffee0000c0ffee0000c0ffee0000">c0ffee0000<\/code> by Mallory/);
  assert.match(html, /3 min ago/);
  assert.match(html, /Commit <code title="bad0[0-9a-f]{36}">bad0000000<\/code> was not applied/);
  assert.match(html, /<h2>Lost hosts <span class="badge bad">2<\/span><\/h2>/);
  // Degraded jobs first, then by name; lost hosts sorted; history newest first, first line only.
  const order = (...needles: string[]) => needles.map((needle) => html.indexOf(needle));
  const sorted = (positions: number[]) => positions.every((position, index) => position >= 0 && (index === 0 || position > positions[index - 1]!));
  assert.ok(sorted(order('<td>broken</td>', '<td>alpha</td>', '<td>zeta</td>')));
  assert.ok(sorted(order('lg-im-01', 'lg-im-02')));
  assert.ok(sorted(order('<td>newer</td>', '<td>older</td>')));
  assert.ok(html.includes('<td class="n">1/3</td>'));
  assert.doesNotMatch(html, /<td>newer\s/);
});

test('an empty controller renders without tables and says so', () => {
  const html = renderStatusPage({ commit: null, result: 'Unknown', jobs: [], lostHosts: [], history: [] }, { now: NOW });
  assert.match(html, /No commit in force yet/);
  assert.match(html, /No jobs\./);
  assert.match(html, /None: every assigned host has a live agent/);
  assert.match(html, /No reconciles recorded yet/);
  assert.doesNotMatch(html, /<table>/);
});

test('history is cut to the most recent entries', () => {
  const history = Array.from({ length: STATUS_PAGE_HISTORY_LIMIT + 5 }, (_, index) => ({
    time: new Date(Date.UTC(2024, 0, 1, 0, index)).toISOString(), sha: `sha-${String(index).padStart(3, '0')}`, author: 'a', message: 'm', outcome: 'applied', actions: index,
  }));
  const html = renderStatusPage({ ...SAMPLE_STATUS, history }, { now: NOW });
  assert.equal(html.match(/<code title="sha-/g)?.length, STATUS_PAGE_HISTORY_LIMIT);
  assert.ok(html.includes('sha-024') && !html.includes('sha-004<'));
});

test('the unavailable page escapes its reason', () => {
  assert.match(renderStatusUnavailablePage('etcd <down>', { now: NOW }), /Status unavailable: etcd &lt;down&gt;/);
});

test('GET /status serves the page as HTML with a script-forbidding CSP', async (t) => {
  const server = await startTestServer({ getStatus: () => STATUS });
  t.after(() => server.close());
  const response = await fetch(`${server.url}/status`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(response.headers.get('content-security-policy'), "default-src 'none'; style-src 'unsafe-inline'");
  const html = await response.text();
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;') && !html.includes('<script>'));
});

test('GET /status answers 503 with an escaped page when the status cannot be read', async (t) => {
  const server = await startTestServer({ getStatus: () => { throw new Error('etcd <unreachable>'); } });
  t.after(() => server.close());
  const response = await fetch(`${server.url}/status`);
  assert.equal(response.status, 503);
  assert.match(await response.text(), /Status unavailable: etcd &lt;unreachable&gt;/);
});
