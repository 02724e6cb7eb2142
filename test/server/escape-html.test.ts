import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml } from '../../src/server/escape-html.js';

test('escapeHtml neutralises tags, quotes and ampersands', () => {
  assert.equal(escapeHtml('<script>alert(1)</script>'), '&lt;script&gt;alert(1)&lt;/script&gt;');
  assert.equal(escapeHtml(`"onmouseover='x'`), '&quot;onmouseover=&#39;x&#39;');
  assert.equal(escapeHtml('a & b &amp; c'), 'a &amp; b &amp;amp; c');
});

test('escapeHtml leaves plain text alone and stringifies other values', () => {
  assert.equal(escapeHtml('alias-job-dispatcher 1.4.2 — ok'), 'alias-job-dispatcher 1.4.2 — ok');
  assert.equal(escapeHtml(42), '42');
  assert.equal(escapeHtml(false), 'false');
  assert.equal(escapeHtml(null), '');
  assert.equal(escapeHtml(undefined), '');
});
