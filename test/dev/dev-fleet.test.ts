import assert from 'node:assert/strict';
import { it } from 'node:test';
import { devFleet } from '../../src/dev/dev-fleet.js';
import { devLayout } from '../../src/dev/dev-layout.js';
import type { Zone } from '../../src/model/types.js';
import { host, model, service } from '../fixtures/model-builder.js';

const layout = devLayout('/tmp/x/.ygg');

it('starts an agent per Host, the director role on directors that are hosts, a renderer for one that is not, per Zone, and for Prometheus', () => {
  const fleet = devFleet(
    model({
      hosts: [host('web-1', { ip: '127.0.0.11' }), host('lvs-1', { ip: '127.0.0.10' })],
      services: [service('web', 'web', { directors: ['lvs-1', 'lvs-far'] }), service('api', 'api', { directors: ['lvs-1'] })],
      zones: [{ name: 'svc.b.test' }, { name: 'svc.a.test' }] as unknown as Zone[],
    }),
    layout,
  );
  assert.deepEqual(fleet.agents, [
    { host: 'lvs-1', ip: '127.0.0.10', keepalivedConf: '/tmp/x/.ygg/keepalived/lvs-1.conf' },
    { host: 'web-1', ip: '127.0.0.11' },
  ]);
  assert.deepEqual(fleet.renderers, [
    { name: 'render-keepalived-lvs-far', args: ['render', 'keepalived', '--director', 'lvs-far', '--out', '/tmp/x/.ygg/keepalived/lvs-far.conf'], target: '/tmp/x/.ygg/keepalived/lvs-far.conf' },
    { name: 'render-dns-svc.a.test', args: ['render', 'dns', '--zone', 'svc.a.test', '--out', '/tmp/x/.ygg/dns/svc.a.test.zone'], target: '/tmp/x/.ygg/dns/svc.a.test.zone' },
    { name: 'render-dns-svc.b.test', args: ['render', 'dns', '--zone', 'svc.b.test', '--out', '/tmp/x/.ygg/dns/svc.b.test.zone'], target: '/tmp/x/.ygg/dns/svc.b.test.zone' },
    { name: 'render-prometheus', args: ['render', 'prometheus', '--out', '/tmp/x/.ygg/prometheus/targets.json'], target: '/tmp/x/.ygg/prometheus/targets.json' },
  ]);
  assert.deepEqual([...fleet.keepalivedConfs.keys()], ['lvs-1', 'lvs-far']);
  assert.deepEqual(fleet.unreachableHosts, []);
});

it('names the hosts whose address this machine does not have, and maps nothing', () => {
  const fleet = devFleet(model({ hosts: [host('web-1', { ip: '10.1.1.11' }), host('web-2', { ip: '127.0.0.12' })] }), layout);
  assert.deepEqual(fleet.unreachableHosts, [{ host: 'web-1', ip: '10.1.1.11' }]);
  assert.deepEqual(fleet.agents.map((agent) => agent.ip), ['10.1.1.11', '127.0.0.12']);
});
