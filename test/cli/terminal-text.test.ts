import assert from 'node:assert/strict';
import { test } from 'node:test';
import { terminalSafe } from '../../src/cli/terminal-text.js';

const HOSTILE = '\x1b[31mred\x1b[0m \x1b]0;title\x07 \r\x00\x7f \u009b2J \u202eevil\u202c \u2066iso\u2069 \u200f';

test('control characters, 8-bit CSI and bidi overrides become visible escapes', () => {
  assert.equal(
    terminalSafe(HOSTILE),
    '\\u001b[31mred\\u001b[0m \\u001b]0;title\\u0007 \\u000d\\u0000\\u007f \\u009b2J \\u202eevil\\u202c \\u2066iso\\u2069 \\u200f',
  );
});

test('newlines, tabs and ordinary non-ASCII text pass unchanged', () => {
  const text = 'job\tstate\nwww  ✔ Healthy  über  日本  └─ node  🌳';
  assert.equal(terminalSafe(text), text);
});

test('JSON stays valid and faithful: the escapes are JSON escapes', () => {
  const value = { message: HOSTILE, nested: [HOSTILE, '\\u001b is text', 'a\\'] };
  for (const json of [JSON.stringify(value), JSON.stringify(value, null, 2)]) {
    const safe = terminalSafe(json);
    assert.doesNotMatch(safe, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    assert.deepEqual(JSON.parse(safe), value);
  }
});
