import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closestMatch, closestMatches } from '../../src/util/closest-match.js';

test('closestMatch: the one nearest candidate within typo distance, or none', () => {
  assert.equal(closestMatch('frontnd', ['frontend', 'search']), 'frontend');
  assert.equal(closestMatch('zzzzzz', ['frontend', 'search']), undefined);
});

test('closestMatches: typos and partial names, nearest first, at most `limit`', () => {
  const names = ['frontend', 'frontend-canary', 'search', 'search-indexer', 'web-a1', 'web-a2', 'lvs-a1'];
  assert.deepEqual(closestMatches('frontnd', names), ['frontend']);
  // A partial name finds every name containing it, exact-ish ones first.
  assert.deepEqual(closestMatches('search', names), ['search', 'search-indexer']);
  assert.deepEqual(closestMatches('web-a9', names), ['web-a1', 'web-a2']);
  assert.deepEqual(closestMatches('SEARCH', names, 1), ['search']);
  assert.deepEqual(closestMatches('nothing-like-it', names), []);
});
