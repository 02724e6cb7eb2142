import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDurationMs } from '../../src/cli/duration.js';
import { UsageError } from '../../src/cli/usage-error.js';

test('durations in ms, s, m, h; a bare number is seconds', () => {
  assert.equal(parseDurationMs('500ms', 'x'), 500);
  assert.equal(parseDurationMs('30s', 'x'), 30_000);
  assert.equal(parseDurationMs('1.5m', 'x'), 90_000);
  assert.equal(parseDurationMs('2h', 'x'), 7_200_000);
  assert.equal(parseDurationMs('15', 'x'), 15_000);
});

test('bad durations are usage errors naming the flag', () => {
  for (const text of ['', 'soon', '10 minutes', '-5s', '0s', '5d']) {
    assert.throws(() => parseDurationMs(text, 'interval'), (error: unknown) => error instanceof UsageError && error.message.startsWith('--interval must be'));
  }
});
