import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { keepalivedInventory, zoneInventory } from '../../src/render/file-inventory.js';
import { renderConfig } from '../../src/render/render-config.js';
import type { RenderData } from '../../src/render/render-data.js';
import { renderZone } from '../../src/render/render-zone.js';
import { vipRecord, zoneRecord } from './render-records.js';

const keepalivedTemplate = await readFile(new URL('../../templates/keepalived.conf.hbs', import.meta.url), 'utf8');
const zoneTemplate = await readFile(new URL('../../templates/dns-zone.hbs', import.meta.url), 'utf8');

const web = vipRecord('web', '192.0.2.10', ['lb1']);
const data: RenderData = {
  director: 'lb1',
  commit: 'abc123',
  revision: '42',
  services: [
    { name: 'web', job: 'web', port: 'http', vip: web.vip, directors: ['lb1'], endpoints: [1, 2].map((n) => ({ host: `h${n}`, ip: `10.0.0.${n}`, port: 80, weight: 1, job: 'web' })) },
    { name: 'dns', job: 'dns', port: 'dns', vip: { ...web.vip, address: '192.0.2.53', port: 53, protocol: 'UDP' }, directors: ['lb1'], endpoints: [{ host: 'h3', ip: '10.0.0.3', port: 53, weight: 1, job: 'dns' }] },
    { name: 'idle', job: 'idle', port: 'http', vip: { ...web.vip, address: '192.0.2.99' }, directors: ['lb1'], endpoints: [] },
  ],
};

describe('keepalivedInventory', () => {
  it('reads back what renderConfig wrote: virtual servers with protocol, real servers, commit and revision', () => {
    const inventory = keepalivedInventory(renderConfig(keepalivedTemplate, data));
    assert.equal(inventory.commit, 'abc123');
    assert.equal(inventory.revision, '42');
    assert.deepEqual(
      [...inventory.groups].map(([group, members]) => [group, [...members]]),
      [
        ['192.0.2.53 53 UDP', ['10.0.0.3 53']],
        ['192.0.2.10 80 TCP', ['10.0.0.1 80', '10.0.0.2 80']],
      ],
      'the idle VIP is only a comment: it serves nothing',
    );
  });

  it('a header naming commit "unknown" names none; a hand-written file without a header still has groups', () => {
    assert.equal(keepalivedInventory(renderConfig(keepalivedTemplate, { ...data, commit: undefined })).commit, undefined);
    const hand = 'global_defs {\n  router_id x\n}\nvirtual_server 10.1.1.1 443\n{\n  ! protocol is TCP by default\n  real_server 10.2.0.1 443 {\n    TCP_CHECK { connect_timeout 3 }\n  }\n  real_server 10.2.0.2 443 { }\n}\n# virtual_server 10.9.9.9 80 {\n';
    const inventory = keepalivedInventory(hand);
    assert.equal(inventory.revision, undefined);
    assert.deepEqual([...inventory.groups.keys()], ['10.1.1.1 443 TCP']);
    assert.deepEqual([...inventory.groups.get('10.1.1.1 443 TCP')!], ['10.2.0.1 443', '10.2.0.2 443']);
  });

  it('an empty or missing file serves nothing', () => {
    assert.equal(keepalivedInventory('').groups.size, 0);
  });
});

describe('zoneInventory', () => {
  it('reads back names and addresses from a rendered zone', () => {
    const zone = renderZone(zoneTemplate, { ...data, director: undefined, zones: [zoneRecord('svc.example.net', ['web', 'dns', 'idle'])] }, 'svc.example.net', 42);
    const inventory = zoneInventory(zone);
    assert.equal(inventory.commit, 'abc123');
    assert.equal(inventory.revision, '42');
    assert.deepEqual([...inventory.groups.get('web')!], ['A 192.0.2.10']);
    assert.deepEqual([...inventory.groups.get('ns1')!], ['A 192.0.2.53'], 'the name server inside the zone');
    assert.equal(inventory.groups.size, 4);
  });
});
