import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageOf, pageRequest } from '../../../src/server/console/page.js';

test('offset and limit from the query, bounded; nonsense falls back to the defaults', () => {
  assert.deepEqual(pageRequest(new URLSearchParams('')), { offset: 0, limit: DEFAULT_PAGE_SIZE });
  assert.deepEqual(pageRequest(new URLSearchParams('offset=400&limit=50')), { offset: 400, limit: 50 });
  assert.deepEqual(pageRequest(new URLSearchParams('limit=100000')), { offset: 0, limit: MAX_PAGE_SIZE });
  assert.deepEqual(pageRequest(new URLSearchParams('offset=-3&limit=abc')), { offset: 0, limit: DEFAULT_PAGE_SIZE });
  assert.deepEqual(pageRequest(new URLSearchParams('limit=0&offset=1.5')), { offset: 0, limit: DEFAULT_PAGE_SIZE });
});

test('a page holds at most `limit` items from `offset`, and says how many there are in all', () => {
  const items = Array.from({ length: 450 }, (_, index) => index);
  const last = pageOf(items, { offset: 400, limit: 200 });
  assert.deepEqual([last.total, last.items.length, last.items[0], last.items.at(-1)], [450, 50, 400, 449]);
  assert.deepEqual(pageOf(items, { offset: 1000, limit: 200 }).items, []);
});
