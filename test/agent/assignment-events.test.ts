import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { AssignmentBook } from '../../src/agent/assignment-book.js';
import { AssignmentEvents } from '../../src/agent/assignment-events.js';
import { removalRecord } from '../../src/controller/removal-records.js';
import type { AssignmentEntry } from '../../src/store/records.js';
import { host, job } from '../fixtures/model-builder.js';
import { assignmentRecord, T0 } from '../fixtures/observed-builder.js';

const PREFIX = '/ygg/v1/assign/h1/';

function setup() {
  const book = new AssignmentBook();
  const scheduled: string[] = [];
  const reported: string[] = [];
  const events = new AssignmentEvents({ book, prefix: PREFIX, logger: pino({ level: 'silent' }), runningJobs: () => book.jobs(), schedule: (name) => scheduled.push(name), reportStatus: (name) => reported.push(name) });
  return { book, events, scheduled, reported };
}

const read = (entries: Record<string, AssignmentEntry>) => ({ entries: new Map(Object.entries(entries).map(([name, value]) => [PREFIX + name, { value }])), skipped: [] });
const web = (commit: string, atMs: number) => assignmentRecord(job('web'), host('h1'), { commit, assignedAtMs: atMs });

test('the first read after adopting meets an older record (etcd restored from a backup): ignored, nothing scheduled', () => {
  const { book, events, scheduled } = setup();
  book.put('web', web('new', T0 + 60_000));
  events.replace(read({ web: removalRecord('web', 'old', T0) }), 'first');
  assert.equal(book.decision('web')?.kind, 'run', 'an old removal record stops nothing');
  events.replace(read({ web: web('old', T0) }), 'first');
  assert.equal(book.wanted('web')?.commit, 'new', 'an old spec is not rolled back to');
  assert.deepEqual(scheduled, []);
});

test('the same decision again changes nothing to run; a newer one is scheduled', () => {
  const { book, events, scheduled, reported } = setup();
  book.put('web', web('c1', T0));
  events.replace(read({ web: web('c1', T0) }), 'first');
  assert.deepEqual(scheduled, []);
  events.onEvent({ type: 'delete', key: `${PREFIX}web`, modRevision: '5' });
  assert.deepEqual(reported, ['web'], 'orphaned: its status says so');
  events.onEvent({ type: 'put', key: `${PREFIX}web`, value: web('c1', T0), modRevision: '6', createRevision: '6', lease: '0' });
  assert.deepEqual(reported, ['web', 'web'], 'restored: the orphan mark is cleared');
  assert.deepEqual(scheduled, [], 'restoring the same record restarts nothing');
  events.onEvent({ type: 'put', key: `${PREFIX}web`, value: web('c2', T0 + 1), modRevision: '7', createRevision: '6', lease: '0' });
  assert.deepEqual(scheduled, ['web']);
});
