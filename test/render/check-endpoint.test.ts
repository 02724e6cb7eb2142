import assert from 'node:assert/strict';
import { test } from 'node:test';
import { usableEndpoints } from '../../src/render/check-endpoint.js';
import type { RenderData, RenderEndpoint } from '../../src/render/render-data.js';
import { vipRecord } from './render-records.js';

test('usableEndpoints leaves out each endpoint that cannot reach the file, says why, and keeps the rest', () => {
  const endpoint = (host: string, ip: string, port = 80, weight = 1): RenderEndpoint => ({ host, ip, port, weight, job: 'web' });
  const data: RenderData = {
    director: 'lb1',
    revision: '3',
    skipped: [{ key: 'naming/web/h0:80', problem: 'not JSON' }],
    services: [
      {
        name: 'web',
        job: 'web',
        port: 'http',
        vip: vipRecord('web', '192.0.2.10', ['lb1']).vip,
        directors: ['lb1'],
        endpoints: [endpoint('h1', '10.0.0.1'), endpoint('h2', '10.0.0.999'), endpoint('h3', '1.2.3.4\n}'), endpoint('h4', '10.0.0.4', 8080), endpoint('h5', '10.0.0.5', 80, 1.5), endpoint('h6', '2001:db8::6')],
      },
    ],
  };
  const usable = usableEndpoints(data);
  assert.deepEqual(usable.services[0]!.endpoints.map((entry) => entry.host), ['h1']);
  assert.deepEqual(usable.skipped?.map((entry) => entry.key), ['naming/web/h0:80', 'naming/web/h2:80', 'naming/web/h3:80', 'naming/web/h4:8080', 'naming/web/h5:80', 'naming/web/h6:80']);
  assert.match(usable.skipped![3]!.problem, /port: lb_kind DR cannot remap port 80 to 8080/);
  assert.match(usable.skipped![5]!.problem, /IPv6 server behind an IPv4 VIP/);
  assert.ok(usable.skipped!.every((entry) => !entry.problem.includes('\n')), 'a hostile value is quoted, never a new line');
});
