import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { test } from 'node:test';
import { addressScope, canonicalIp, parseIp } from '../../src/model/ip-address.js';

const LITERALS = [
  '10.0.0.1', '0.0.0.0', '255.255.255.255', '1.2.3', '1.2.3.4.5', '01.2.3.4', '256.1.1.1', '1.2.3.-1', ' 1.2.3.4',
  '::', '::1', '1::', 'fd00::1', 'FD00::A', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1::2::3',
  '::ffff:10.0.0.1', '64:ff9b::1.2.3.4', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3.4', '1::1.2.3.4', '1.2.3.4::',
  '12345::1', 'g::1', ':1', '1:', ':::', 'fe80::1%eth0', '', '::ffff:1.2.3', '1:2:3:4:5:6:7', '::1:2:3:4:5:6:7',
];

test('parses exactly the literals node:net accepts (no zone index)', () => {
  for (const literal of LITERALS) {
    const expected = literal.includes('%') ? 0 : isIP(literal);
    assert.equal(parseIp(literal)?.family ?? 0, expected, literal);
  }
});

test('scopes: what no connection can go to, loopback, and the rest', () => {
  const cases: [string, string][] = [
    ['0.0.0.0', 'unspecified'], ['0.1.2.3', 'unspecified'], ['::', 'unspecified'], ['::ffff:0.0.0.0', 'unspecified'],
    ['127.0.0.1', 'loopback'], ['127.0.0.42', 'loopback'], ['::1', 'loopback'], ['::ffff:127.0.0.1', 'loopback'],
    ['224.0.0.1', 'multicast'], ['239.255.255.250', 'multicast'], ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['169.254.10.1', 'link-local'], ['fe80::1', 'link-local'], ['febf::1', 'link-local'],
    ['10.0.0.1', 'unicast'], ['223.255.255.255', 'unicast'], ['240.0.0.1', 'unicast'], ['fec0::1', 'unicast'], ['fd00::1', 'unicast'], ['::2', 'unicast'], ['2001:db8::1', 'unicast'],
  ];
  for (const [literal, scope] of cases) assert.equal(addressScope(parseIp(literal)!), scope, literal);
});

test('one canonical spelling per address', () => {
  assert.equal(canonicalIp('fd00::1'), canonicalIp('FD00:0:0::0001'));
  assert.equal(canonicalIp('::ffff:10.0.0.1'), canonicalIp('::ffff:a00:1'));
  assert.notEqual(canonicalIp('fd00::1'), canonicalIp('fd00::2'));
  assert.equal(canonicalIp('10.0.0.1'), '10.0.0.1');
});
