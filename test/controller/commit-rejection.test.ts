import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadFailure, MAX_STORED_REASONS, rejection, rejectionAudit } from '../../src/controller/commit-rejection.js';

const COMMIT = { sha: 'a'.repeat(40), author: 'Bob Dev', email: 'bob@example.com', message: 'Break it', timestamp: 1_700_000_000 };

test('a commit with a million findings still fits one sync/current value', () => {
  const reasons = Array.from({ length: 1_000_000 }, (_, index) => `jobs/j${index}.yaml:1:1: ${'x'.repeat(5000)}`);
  const rejected = rejection(COMMIT, reasons);
  assert.equal(rejected.errors.length, MAX_STORED_REASONS + 1);
  assert.equal(rejected.errors.at(-1), `... and ${1_000_000 - MAX_STORED_REASONS} more`);
  assert.ok(JSON.stringify(rejected.errors).length < 200_000);
  const audit = rejectionAudit(rejected, new Date(0), 'poll');
  assert.equal(audit.outcome, 'Rejected');
  assert.deepEqual(audit.actions, []);
  assert.match(audit.note!, /^rejected: jobs\/j0\.yaml:1:1: x+\.\.\.; .* \(and 96 more in sync\/current\)$/);
});

test('a load failure names the error, and only a load failure is one', () => {
  const error = Object.assign(new TypeError('fields.join is not a function\n    at analyze (check-template.ts:1:1)'), { code: 'E_SOMETHING' });
  assert.deepEqual(loadFailure(COMMIT, error).errors, ['the controller failed to load this commit: TypeError E_SOMETHING: fields.join is not a function']);
  assert.equal(loadFailure(COMMIT, 'a string').loadFailure, 'the controller failed to load this commit: a string');
  assert.equal(rejection(COMMIT, ['hosts.yaml:1:1: bad']).loadFailure, undefined);
});
