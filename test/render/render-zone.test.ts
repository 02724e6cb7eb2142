import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Vip } from '../../src/model/types.js';
import type { ResolvedZone } from '../../src/model/zone-records.js';
import { namedCheckzone } from '../../src/render/check-commands.js';
import type { RenderData, RenderService } from '../../src/render/render-data.js';
import { RenderInputError, UnknownZoneError } from '../../src/render/render-errors.js';
import { nextZoneSerial, renderZone } from '../../src/render/render-zone.js';

const template = await readFile(new URL('../../templates/dns-zone.hbs', import.meta.url), 'utf8');

const vip: Vip = { address: '10.0.0.10', port: 80, protocol: 'TCP', lbAlgo: 'rr', lbKind: 'NAT', persistenceSeconds: 0, check: { tcp: {}, connectTimeoutSeconds: 3, delayLoopSeconds: 5 } };

function service(name: string, overrides: Partial<RenderService> = {}): RenderService {
  return { name, job: name, port: 'http', directors: [], endpoints: [], ...overrides };
}

const zone: ResolvedZone = {
  zone: 'svc.example.net',
  ttlSeconds: 30,
  soa: { hostmaster: 'hostmaster.example.net', refreshSeconds: 7200, retrySeconds: 900, expireSeconds: 1209600, negativeTtlSeconds: 15 },
  nameServers: [
    { name: 'ns1.svc.example.net', addresses: ['10.0.9.53', '2001:db8::53'] },
    { name: 'ns.example.org', addresses: [] },
  ],
  records: [
    { name: 'cache', service: 'acme.cache' },
    { name: 'idle', service: 'acme.idle' },
    { name: 'www.shop', service: 'acme.web' },
  ],
};

const data: RenderData = {
  commit: 'abc1234',
  revision: '42',
  zones: [{ ...zone, zone: 'other.example.net', records: [] }, zone],
  services: [
    service('acme.web', { vip, endpoints: [{ host: 'h1', ip: '10.0.1.1', port: 8080, weight: 1, job: 'web' }] }),
    service('acme.cache', {
      endpoints: [
        { host: 'h2', ip: '10.0.2.2', port: 6379, weight: 1, job: 'cache' },
        { host: 'h1', ip: '10.0.2.1', port: 6379, weight: 1, job: 'cache' },
        { host: 'h1', ip: '10.0.2.1', port: 6380, weight: 1, job: 'cache' },
        { host: 'h3', ip: '2001:db8::3', port: 6379, weight: 1, job: 'cache' },
      ],
    }),
    service('acme.idle'),
    service('acme.unpublished', { vip: { ...vip, address: '10.0.0.99' } }),
  ],
};

describe('renderZone', () => {
  it('renders the Zone: SOA from its fields, every name server, their addresses inside the zone, and each published name', () => {
    const text = renderZone(template, data, 'svc.example.net', 42);
    assert.match(text, /^\$ORIGIN svc\.example\.net\.$/m);
    assert.match(text, /^\$TTL 30$/m);
    assert.match(text, /^@ IN SOA ns1\.svc\.example\.net\. hostmaster\.example\.net\. \(\n {4}42 ; serial\n {4}7200 ; refresh\n {4}900 ; retry\n {4}1209600 ; expire\n {4}15 ; negative-answer ttl\n\)$/m);
    assert.deepEqual(text.split('\n').filter((line) => / IN NS /.test(line)), ['@ IN NS ns1.svc.example.net.', '@ IN NS ns.example.org.']);
    const records = text.split('\n').filter((line) => / IN (A|AAAA) /.test(line));
    assert.deepEqual(records, [
      'cache IN A 10.0.2.1',
      'cache IN A 10.0.2.2',
      'cache IN AAAA 2001:db8::3',
      'ns1 IN A 10.0.9.53',
      'ns1 IN AAAA 2001:db8::53',
      'www.shop IN A 10.0.0.10',
    ]);
    assert.match(text, /^; idle \(acme\.idle\): no VIP and no live endpoint, no record$/m);
    assert.doesNotMatch(text, /10\.0\.0\.99/, 'a service the zone does not publish is not in it');
  });

  it('is byte-identical for identical input, whatever the input order', () => {
    const reversed: RenderData = { ...data, services: [...data.services].reverse().map((s) => ({ ...s, endpoints: [...s.endpoints].reverse() })) };
    assert.equal(renderZone(template, reversed, 'svc.example.net', 42), renderZone(template, data, 'svc.example.net', 42));
  });

  it('an origin etcd holds no Zone for is an error naming the zones it holds', () => {
    assert.throws(() => renderZone(template, data, 'svc.example.com', 1), (error: unknown) => error instanceof UnknownZoneError && error.code === 'E_RENDER_UNKNOWN_ZONE' && /known zones: other\.example\.net, svc\.example\.net$/.test(error.message));
    assert.throws(() => renderZone(template, { ...data, zones: [] }, 'svc.example.net', 1), /etcd holds no zone: declare one in the repo \(kind: Zone\)/);
  });

  it('refuses values that could break out of a record or leave the zone', () => {
    const withZone = (change: Partial<ResolvedZone>): RenderData => ({ ...data, zones: [{ ...zone, ...change }] });
    const bad: [RenderData, number, string, string | undefined][] = [
      [{ ...data, services: [service('acme.cache', { endpoints: [{ host: 'h', ip: '1.2.3.4\n}', port: 1, weight: 1, job: 'web' }] })] }, 1, 'endpoints[0].ip', 'acme.cache'],
      [withZone({ records: [{ name: 'web.', service: 'acme.web' }] }), 1, 'name', 'acme.web'],
      [withZone({ records: [{ name: 'a;b', service: 'acme.web' }] }), 1, 'name', 'acme.web'],
      [withZone({ records: [{ name: 'x', service: 'acme\nevil IN A 6.6.6.6' }] }), 1, 'service', 'acme\nevil IN A 6.6.6.6'],
      [withZone({ nameServers: [{ name: 'ns1.svc.example.net. IN NS evil', addresses: [] }] }), 1, 'nameServers[0].name', undefined],
      [withZone({ nameServers: [{ name: 'ns1.svc.example.net', addresses: ['10.0.0.1 evil'] }] }), 1, 'nameServers[0].addresses[0]', undefined],
      [withZone({ soa: { ...zone.soa, hostmaster: 'root@example.net' } }), 1, 'soa.hostmaster', undefined],
      [data, -1, 'serial', undefined],
    ];
    for (const [input, serial, field, expectedService] of bad) {
      assert.throws(
        () => renderZone(template, input, 'svc.example.net', serial),
        (error: unknown) => error instanceof RenderInputError && error.problems.some((p) => p.field === field && p.service === expectedService),
        field,
      );
    }
  });

  it('passes named-checkzone', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ygg-zone-'));
    try {
      const file = path.join(dir, 'zone');
      await writeFile(file, renderZone(template, data, 'svc.example.net', 42));
      await namedCheckzone('svc.example.net')(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('nextZoneSerial', () => {
  const rendered = (revision: string, serial: number) => renderZone(template, { ...data, revision }, 'svc.example.net', serial);

  it('is the etcd revision for a first render and while the revision is ahead of the file', () => {
    assert.equal(nextZoneSerial('', '42'), 42);
    assert.equal(nextZoneSerial(rendered('42', 42), '57'), 57);
  });

  it('never goes back when etcd restarts at a lower revision (a restore, a new cluster)', () => {
    const afterRestore = nextZoneSerial(rendered('9000', 9000), '120');
    assert.equal(afterRestore, 9001);
    // and goes on growing from there while the revision is still behind
    assert.equal(nextZoneSerial(rendered('120', afterRestore), '130'), 9002);
  });

  it('keeps the serial of a re-render of the same revision', () => {
    assert.equal(nextZoneSerial(rendered('120', 9001), '120'), 9001);
  });

  it('wraps at 2^32 as RFC 1982 serial arithmetic does', () => {
    assert.equal(nextZoneSerial(rendered('5', 4_294_967_295), '6'), 0);
  });
});
