import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Vip } from '../../src/model/types.js';
import { keepalivedCheck } from '../../src/render/check-commands.js';
import { renderConfig } from '../../src/render/render-config.js';
import type { RenderData, RenderEndpoint, RenderService } from '../../src/render/render-data.js';
import { RenderCheckError, RenderInputError } from '../../src/render/render-errors.js';

const template = await readFile(new URL('../../templates/keepalived.conf.hbs', import.meta.url), 'utf8');
const workDir = await mkdtemp(path.join(tmpdir(), 'ygg-render-config-'));
after(() => rm(workDir, { recursive: true, force: true }));

function vip(overrides: Partial<Vip> = {}): Vip {
  return {
    address: '10.0.0.10',
    port: 80,
    protocol: 'TCP',
    lbAlgo: 'wrr',
    lbKind: 'NAT',
    persistenceSeconds: 0,
    check: { tcp: {}, connectTimeoutSeconds: 3, delayLoopSeconds: 5 },
    ...overrides,
  };
}

function endpoints(prefix: string, port: number, count = 3): RenderEndpoint[] {
  return Array.from({ length: count }, (_, index) => ({ host: `host-${index + 1}`, ip: `${prefix}.${index + 1}`, port, weight: 100, job: 'web' }));
}

function service(name: string, overrides: Partial<RenderService> = {}): RenderService {
  return { name, job: name, port: 'http', vip: vip(), directors: ['lb-1'], endpoints: endpoints('10.0.1', 8080), ...overrides };
}

function twoVips(): RenderData {
  return {
    director: 'lb-1',
    commit: 'abc1234',
    revision: '42',
    services: [
      service('api', {
        vip: vip({ address: '10.0.0.11', port: 443, lbAlgo: 'rr', persistenceSeconds: 300, sorryServer: { address: '10.0.9.9', port: 8443 }, check: { http: { path: '/healthz', statusCode: 200 }, connectTimeoutSeconds: 2, delayLoopSeconds: 6 } }),
        endpoints: endpoints('10.0.2', 8443),
      }),
      service('web', { vip: vip({ lbKind: 'DR' }), endpoints: endpoints('10.0.1', 80) }),
      service('other', { vip: vip({ address: '10.0.0.12' }), directors: ['lb-2'] }),
    ],
  };
}

async function check(content: string): Promise<void> {
  const file = path.join(workDir, `check-${Math.random().toString(36).slice(2)}.conf`);
  await writeFile(file, content);
  await keepalivedCheck()(file);
}

describe('renderConfig', () => {
  it('renders 2 VIPs × 3 real servers that the real keepalived -t accepts', async () => {
    const text = renderConfig(template, twoVips());
    assert.equal((text.match(/^virtual_server /gm) ?? []).length, 2);
    assert.equal((text.match(/^ {4}real_server /gm) ?? []).length, 6);
    assert.match(text, /commit abc1234, etcd revision 42/);
    assert.match(text, /^ {4}persistence_timeout 300$/m);
    assert.match(text, /^ {4}sorry_server 10\.0\.9\.9 8443$/m);
    assert.match(text, /^ {16}path \/healthz$/m);
    // The connect timeout once per virtual_server, and TCP_CHECK probes the real server's own port:
    // nothing to repeat per real server (10,000 real servers are 20,000 lines fewer to check).
    assert.equal((text.match(/^ {4}connect_timeout \d+$/gm) ?? []).length, 2);
    assert.match(text, /TCP_CHECK \{\n {8}\}/);
    assert.doesNotMatch(text, /^ {5,}connect_(timeout|port)/m);
    await check(text);
  });

  it('renders byte-identical output for identical input, whatever the input order', () => {
    const data = twoVips();
    const shuffled: RenderData = { ...data, services: [...data.services].reverse().map((s) => ({ ...s, endpoints: [...s.endpoints].reverse() })) };
    assert.equal(renderConfig(template, data), renderConfig(template, twoVips()));
    assert.equal(renderConfig(template, shuffled), renderConfig(template, data));
  });

  it('leaves out VIPs this director does not serve, and services without a VIP', () => {
    const text = renderConfig(template, { ...twoVips(), services: [...twoVips().services, service('novip', { vip: undefined })] });
    assert.doesNotMatch(text, /10\.0\.0\.12/);
    assert.doesNotMatch(text, /other|novip/);
  });

  it('omits persistence_timeout at 0 and sorry_server when unset', () => {
    const text = renderConfig(template, { ...twoVips(), services: [service('web')] });
    assert.doesNotMatch(text, /persistence_timeout|sorry_server/);
  });

  it('renders a VIP with no live endpoints (or only weight 0) as a comment, because keepalived -t rejects it', async () => {
    const empty = { address: '10.0.0.20', port: 80 };
    // Prove the premise with the real checker: an empty virtual_server, even with a sorry_server, fails.
    const bare = `virtual_server ${empty.address} ${empty.port} {\n    delay_loop 5\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    sorry_server 10.0.9.9 80\n}\n`;
    await assert.rejects(check(bare), RenderCheckError);

    const data: RenderData = {
      ...twoVips(),
      services: [
        service('empty', { vip: vip({ ...empty, sorryServer: { address: '10.0.9.9', port: 80 } }), endpoints: [] }),
        service('drained', { vip: vip({ address: '10.0.0.21' }), endpoints: endpoints('10.0.3', 8080).map((e) => ({ ...e, weight: 0 })) }),
        service('web'),
      ],
    };
    const text = renderConfig(template, data);
    assert.match(text, /^# virtual_server 10\.0\.0\.20 80 \(TCP\) omitted/m);
    assert.match(text, /^# virtual_server 10\.0\.0\.21 80 \(TCP\) omitted/m);
    assert.equal((text.match(/^virtual_server /gm) ?? []).length, 1);
    await check(text);
  });

  it('keeps one real_server per ip:port (keepalived -t rejects duplicates), the highest weight winning', () => {
    const [first] = endpoints('10.0.1', 8080, 1);
    assert.ok(first);
    const text = renderConfig(template, { ...twoVips(), services: [service('web', { endpoints: [{ ...first, weight: 5 }, { ...first, host: 'other', weight: 7 }] })] });
    assert.equal((text.match(/real_server 10\.0\.1\.1 8080/g) ?? []).length, 1);
    assert.match(text, /weight 7/);
  });

  it('renders IPv6 VIPs and real servers', async () => {
    const data: RenderData = { ...twoVips(), services: [service('v6', { vip: vip({ address: '2001:db8::10' }), endpoints: [{ host: 'h', ip: '2001:db8::1:2', port: 8080, weight: 1, job: 'v6' }] })] };
    await check(renderConfig(template, data));
  });

  describe('refuses values that could break out of the file', () => {
    const cases: { name: string; data: RenderData; service: string | undefined; field: string }[] = [
      { name: 'a path with "\\n}', data: { ...twoVips(), services: [service('web', { vip: vip({ check: { http: { path: '/x"\n}' }, connectTimeoutSeconds: 3, delayLoopSeconds: 5 } }) })] }, service: 'web', field: 'vip.check.http.path' },
      { name: 'an endpoint ip 1.2.3.4\\n}', data: { ...twoVips(), services: [service('web', { endpoints: [{ host: 'h', ip: '1.2.3.4\n}', port: 8080, weight: 1, job: 'web' }] })] }, service: 'web', field: 'endpoints[0].ip' },
      { name: 'a VIP address with a #', data: { ...twoVips(), services: [service('web', { vip: vip({ address: '10.0.0.1 # x' }) })] }, service: 'web', field: 'vip.address' },
      { name: 'an lb_algo outside the enum', data: { ...twoVips(), services: [service('web', { vip: vip({ lbAlgo: 'rr\n}' as never }) })] }, service: 'web', field: 'vip.lbAlgo' },
      { name: 'a port out of range', data: { ...twoVips(), services: [service('web', { endpoints: [{ host: 'h', ip: '10.0.1.1', port: 70000, weight: 1, job: 'web' }] })] }, service: 'web', field: 'endpoints[0].port' },
      { name: 'a fractional weight', data: { ...twoVips(), services: [service('web', { endpoints: [{ host: 'h', ip: '10.0.1.1', port: 8080, weight: 1.5, job: 'web' }] })] }, service: 'web', field: 'endpoints[0].weight' },
      { name: 'a service name with a brace', data: { ...twoVips(), services: [service('web}')] }, service: 'web}', field: 'name' },
      { name: 'a commit with a newline', data: { ...twoVips(), commit: 'abc\nvirtual_server' }, service: undefined, field: 'commit' },
      { name: 'a DR real server on another port (keepalived -t rejects it)', data: { ...twoVips(), services: [service('web', { vip: vip({ lbKind: 'DR' }) })] }, service: 'web', field: 'endpoints[0].port' },
      { name: 'an IPv4 real server behind an IPv6 VIP', data: { ...twoVips(), services: [service('web', { vip: vip({ address: '2001:db8::1' }) })] }, service: 'web', field: 'endpoints[0].ip' },
      { name: 'two services on one VIP', data: { ...twoVips(), services: [service('a'), service('b')] }, service: 'b', field: 'vip' },
      { name: 'no director', data: { ...twoVips(), director: undefined }, service: undefined, field: 'director' },
    ];
    for (const { name, data, service: expectedService, field } of cases) {
      it(name, () => {
        assert.throws(
          () => renderConfig(template, data),
          (error: unknown) => {
            assert.ok(error instanceof RenderInputError);
            assert.equal(error.code, 'E_RENDER_INPUT');
            assert.ok(
              error.problems.some((problem) => problem.service === expectedService && problem.field === field),
              `expected ${String(expectedService)} ${field} in ${JSON.stringify(error.problems)}`,
            );
            assert.doesNotMatch(error.message, /\n/);
            return true;
          },
        );
      });
    }
  });

  it('reports every problem at once', () => {
    const data: RenderData = { ...twoVips(), services: [service('web', { vip: vip({ address: 'x', port: 0 }) })] };
    assert.throws(() => renderConfig(template, data), (error: unknown) => error instanceof RenderInputError && error.problems.length >= 2);
  });

  it('ignores bad values in services this director does not serve', () => {
    const data: RenderData = { ...twoVips(), services: [service('web'), service('elsewhere', { directors: ['lb-2'], vip: vip({ address: 'bad\n' }) })] };
    assert.doesNotThrow(() => renderConfig(template, data));
  });
});
