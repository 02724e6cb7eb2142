import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keepalivedInventory } from '../../src/render/file-inventory.js';
import { InventoryMemo } from '../../src/render/inventory-memo.js';

const file = (servers: readonly string[]) => `virtual_server 192.0.2.10 80 {\n    protocol TCP\n${servers.map((ip) => `    real_server ${ip} 80 {\n    }\n`).join('')}}\n`;
const members = (memo: InventoryMemo, text: string) => [...(memo.inventory(text).groups.get('192.0.2.10 80 TCP') ?? [])];

test('the file in place and the proposed render are read once each; any other text (a hand edit) is read anew', () => {
  let reads = 0;
  const memo = new InventoryMemo((text) => {
    reads++;
    return keepalivedInventory(text);
  });
  const inPlace = file(['10.0.0.1', '10.0.0.2']);
  const proposed = file(['10.0.0.1']);
  assert.deepEqual(members(memo, inPlace), ['10.0.0.1 80', '10.0.0.2 80']);
  assert.deepEqual(members(memo, proposed), ['10.0.0.1 80']);
  // The next render: the file in place is the last render, read back as a new string.
  assert.deepEqual(members(memo, `${proposed}`), ['10.0.0.1 80']);
  assert.deepEqual(members(memo, inPlace), ['10.0.0.1 80', '10.0.0.2 80']);
  assert.equal(reads, 2);
  const handEdited = proposed.replace('10.0.0.1', '10.0.0.9');
  assert.deepEqual(members(memo, handEdited), ['10.0.0.9 80']);
  assert.equal(reads, 3);
  // Two texts are kept, the most recently used: proposed (used before inPlace) is gone.
  members(memo, proposed);
  assert.equal(reads, 4);
});
