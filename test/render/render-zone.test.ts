import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Vip } from '../../src/model/types.js';
import { namedCheckzone } from '../../src/render/check-commands.js';
import type { RenderData, RenderService } from '../../src/render/render-data.js';
import { RenderInputError } from '../../src/render/render-errors.js';
import { renderZone } from '../../src/render/render-zone.js';

const template = await readFile(new URL('../../templates/dns-zone.hbs', import.meta.url), 'utf8');

const vip: Vip = { address: '10.0.0.10', port: 80, protocol: 'TCP', lbAlgo: 'rr', lbKind: 'NAT', persistenceSeconds: 0, check: { tcp: {}, connectTimeoutSeconds: 3, delayLoopSeconds: 5 } };

function service(name: string, overrides: Partial<RenderService> = {}): RenderService {
  return { name, job: name, port: 'http', directors: [], endpoints: [], ...overrides };
}

const data: RenderData = {
  commit: 'abc1234',
  revision: '42',
  services: [
    service('web.shop', { vip, endpoints: [{ host: 'h1', ip: '10.0.1.1', port: 8080, weight: 1, job: 'web' }] }),
    service('cache', {
      endpoints: [
        { host: 'h2', ip: '10.0.2.2', port: 6379, weight: 1, job: 'cache' },
        { host: 'h1', ip: '10.0.2.1', port: 6379, weight: 1, job: 'cache' },
        { host: 'h1', ip: '10.0.2.1', port: 6380, weight: 1, job: 'cache' },
        { host: 'h3', ip: '2001:db8::3', port: 6379, weight: 1, job: 'cache' },
      ],
    }),
    service('idle'),
  ],
};
const options = { zone: 'svc.example.net', serial: 42, nameServer: 'ns1.example.net' };

describe('renderZone', () => {
  it('renders $ORIGIN, SOA, NS and sorted records: the VIP where there is one, else each endpoint ip once', () => {
    const text = renderZone(template, data, options);
    assert.match(text, /^\$ORIGIN svc\.example\.net\.$/m);
    assert.match(text, /^@ IN SOA ns1\.example\.net\. hostmaster\.svc\.example\.net\. \($/m);
    assert.match(text, /^ {4}42 ; serial$/m);
    assert.match(text, /^@ IN NS ns1\.example\.net\.$/m);
    const records = text.split('\n').filter((line) => / IN (A|AAAA) /.test(line));
    assert.deepEqual(records, ['cache IN A 10.0.2.1', 'cache IN A 10.0.2.2', 'cache IN AAAA 2001:db8::3', 'web.shop IN A 10.0.0.10']);
  });

  it('is byte-identical for identical input, whatever the input order', () => {
    const reversed: RenderData = { ...data, services: [...data.services].reverse().map((s) => ({ ...s, endpoints: [...s.endpoints].reverse() })) };
    assert.equal(renderZone(template, reversed, options), renderZone(template, data, options));
  });

  it('refuses values that could break out of a record or leave the zone', () => {
    const bad: [RenderData, typeof options, string, string | undefined][] = [
      [{ ...data, services: [service('web', { endpoints: [{ host: 'h', ip: '1.2.3.4\n}', port: 1, weight: 1, job: 'web' }] })] }, options, 'endpoints[0].ip', 'web'],
      [{ ...data, services: [service('web.', { vip })] }, options, 'name', 'web.'],
      [{ ...data, services: [service('a;b', { vip })] }, options, 'name', 'a;b'],
      [data, { ...options, zone: 'example.net\n@ IN NS evil.' }, 'zone', undefined],
      [data, { ...options, serial: -1 }, 'serial', undefined],
    ];
    for (const [input, zoneOptions, field, expectedService] of bad) {
      assert.throws(
        () => renderZone(template, input, zoneOptions),
        (error: unknown) => error instanceof RenderInputError && error.problems.some((p) => p.field === field && p.service === expectedService),
        field,
      );
    }
  });

  it('passes named-checkzone', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ygg-zone-'));
    try {
      const file = path.join(dir, 'zone');
      await writeFile(file, renderZone(template, data, options));
      await namedCheckzone(options.zone)(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
