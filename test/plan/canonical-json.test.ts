import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, freezeDeep } from '../../src/plan/canonical-json.js';

/** The text spec hashes were made of before canonicalJson built it itself: it must not change. */
function sortKeysText(value: unknown): string {
  const sortKeys = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(sortKeys);
    if (item && typeof item === 'object') {
      return Object.fromEntries(
        Object.keys(item)
          .sort()
          .map((key) => [key, sortKeys((item as Record<string, unknown>)[key])]),
      );
    }
    return item;
  };
  return JSON.stringify(sortKeys(value));
}

const awkward = {
  z: 1,
  a: [3, 'x', null, undefined, { y: true, b: false }, [], {}],
  '10': 'ten',
  '2': 'two',
  '01': 'not an index',
  '4294967295': 'too big to be an index',
  '-1': 'negative',
  'é': 'accent',
  B: 'upper',
  nested: { env: { PATH: '/bin', '8080': 'port-like', HOME: '/root' }, skip: undefined, fn: () => 1 },
  text: 'quote " backslash \\ newline \n unicode \u2028',
  numbers: [0, -0, 1.5, 1e21, Number.NaN, Number.POSITIVE_INFINITY],
  date: new Date(0),
};

test('canonicalJson gives the same text as JSON.stringify of the key-sorted object, awkward keys and values included', () => {
  assert.equal(canonicalJson(awkward), sortKeysText(awkward));
  assert.equal(canonicalJson([undefined, 1]), '[null,1]');
  assert.equal(canonicalJson('plain'), '"plain"');
  assert.equal(canonicalJson(null), 'null');
});

test('equal data with keys in another order gives equal text', () => {
  assert.equal(canonicalJson({ b: { d: 1, c: 2 }, a: 1 }), canonicalJson({ a: 1, b: { c: 2, d: 1 } }));
  assert.equal(canonicalJson({ a: 1, b: { c: 2, d: 1 } }), '{"a":1,"b":{"c":2,"d":1}}');
});

test('a deep-frozen value gives the same text as a live copy of it, inside other values too', () => {
  const shared = freezeDeep(structuredClone({ ...awkward, nested: { ...awkward.nested, fn: undefined }, date: undefined }));
  const copy = structuredClone(shared);
  assert.ok(Object.isFrozen(shared.nested.env));
  assert.equal(canonicalJson(shared), sortKeysText(copy));
  assert.equal(canonicalJson(shared), canonicalJson(shared), 'remembered text is the text');
  assert.equal(canonicalJson({ record: shared, host: 'h1' }), sortKeysText({ record: copy, host: 'h1' }));
});

test('a value that is not frozen is serialised afresh each time: a change shows', () => {
  const live = { a: 1 };
  assert.equal(canonicalJson(live), '{"a":1}');
  live.a = 2;
  assert.equal(canonicalJson(live), '{"a":2}');
});

test('a frozen value whose text was dropped, after thousands of others, gives the same text again', () => {
  const first = freezeDeep({ spec: { command: ['bin/app', '--port', '8080'] }, host: { name: 'h1' } });
  const text = canonicalJson(first);
  for (let index = 0; index < 20_000; index++) canonicalJson(freezeDeep({ index, spec: { index } }));
  assert.equal(canonicalJson(first), text);
  assert.equal(text, sortKeysText(structuredClone(first)));
});
