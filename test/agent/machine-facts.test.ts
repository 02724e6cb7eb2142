import assert from 'node:assert/strict';
import { statfs } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { listAddresses, MachineFactsError, readMachineFacts } from '../../src/agent/machine-facts.js';

test('machine facts describe this machine with sane values', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ygg-facts-'));
  try {
    const startedAt = new Date('2024-05-01T10:00:00.000Z');
    const now = new Date('2024-05-01T10:05:00.000Z');
    const facts = await readMachineFacts('lg-im-01', root, '0.1.0', startedAt, now);
    assert.equal(facts.host, 'lg-im-01');
    assert.equal(facts.hostname, os.hostname());
    assert.ok(facts.cpus >= 1 && Number.isInteger(facts.cpus));
    assert.equal(facts.memoryBytes, os.totalmem());
    const disk = await statfs(root);
    assert.ok(facts.diskFreeBytes > 0 && facts.diskFreeBytes <= disk.blocks * disk.bsize);
    assert.match(facts.os, /^linux \d+\.\d+/);
    assert.equal(facts.agentVersion, '0.1.0');
    assert.equal(facts.startedAt, '2024-05-01T10:00:00.000Z');
    assert.equal(facts.updatedAt, '2024-05-01T10:05:00.000Z');
    assert.ok(!facts.ips.some((ip) => ip === '127.0.0.1' || ip === '::1'), `loopback in ${facts.ips.join(', ')}`);
    assert.deepEqual(facts.ips, listAddresses(os.networkInterfaces()));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('addresses: loopback and IPv6 link-local left out, IPv4 first, each family sorted', () => {
  const info = (address: string, family: 'IPv4' | 'IPv6', internal = false): os.NetworkInterfaceInfo =>
    ({ address, family, internal, netmask: '', mac: '', cidr: null, ...(family === 'IPv6' ? { scopeid: 0 } : {}) }) as os.NetworkInterfaceInfo;
  const addresses = listAddresses({
    lo: [info('127.0.0.1', 'IPv4', true), info('::1', 'IPv6', true)],
    eth1: [info('10.1.0.12', 'IPv4'), info('fe80::1', 'IPv6'), info('2001:db8::12', 'IPv6')],
    eth0: [info('10.1.0.11', 'IPv4'), info('2001:db8::11', 'IPv6'), info('10.1.0.11', 'IPv4')],
  });
  assert.deepEqual(addresses, ['10.1.0.11', '10.1.0.12', '2001:db8::11', '2001:db8::12']);
});

test('a missing agent root is a typed error, not a zero', async () => {
  await assert.rejects(readMachineFacts('h', '/nonexistent/ygg-root', '0.1.0', new Date()), (error: unknown) => {
    assert.ok(error instanceof MachineFactsError);
    assert.equal(error.code, 'E_AGENT_ROOT_UNREADABLE');
    assert.equal(error.root, '/nonexistent/ygg-root');
    return true;
  });
});
