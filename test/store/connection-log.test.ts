import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createConnectionLog } from '../../src/store/connection-log.js';
import { waitFor } from './wait-for.js';

function capture() {
  const lines: { level: string; event: unknown; message: string }[] = [];
  const at = (level: string) => (fields: object, message: string) => void lines.push({ level, event: (fields as { event?: unknown }).event, message });
  return { lines, logger: { info: at('info'), warn: at('warn') } };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('one line when etcd is lost, reminders while it stays lost, one line when it is back', async () => {
  const { lines, logger } = capture();
  const log = createConnectionLog(logger, { consequence: 'jobs keep running', reminderMs: 100 });
  log.report(true); // already connected: nothing to say
  log.report(false);
  log.report(false); // a second watch, or a flap underneath: still the same outage
  await waitFor(() => lines.length === 3, 'two reminders');
  log.report(true);
  log.report(true);
  await sleep(150); // no reminder once it is back
  assert.deepEqual(
    lines.map(({ level, event }) => `${level} ${event}`),
    ['warn etcd_disconnected', 'warn etcd_still_disconnected', 'warn etcd_still_disconnected', 'info etcd_connected'],
  );
  assert.equal(lines[0]!.message, 'etcd unreachable; jobs keep running');
  assert.match(lines[1]!.message, /^etcd still unreachable after 0\.1 s; jobs keep running$/);
  assert.match(lines[2]!.message, /^etcd still unreachable after 0\.2 s; jobs keep running$/);
  assert.match(lines[3]!.message, /^etcd reachable again after 0\.\d s$/);
});

test('close stops the reminders and ignores later reports', async () => {
  const { lines, logger } = capture();
  const log = createConnectionLog(logger, { reminderMs: 50 });
  log.report(false);
  log.close();
  await sleep(150);
  log.report(true);
  assert.deepEqual(lines.map(({ message }) => message), ['etcd unreachable']);
});
