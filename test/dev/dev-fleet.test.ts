import assert from 'node:assert/strict';
import { it } from 'node:test';
import { devFleet } from '../../src/dev/dev-fleet.js';
import { devLayout } from '../../src/dev/dev-layout.js';
import { host, model, service } from '../fixtures/model-builder.js';

const layout = devLayout('/tmp/x/.ygg');

it('starts an agent per Host, the director role on directors that are hosts, a renderer for one that is not', () => {
  const fleet = devFleet(
    model({
      hosts: [host('web-1', { ip: '127.0.0.11' }), host('lvs-1', { ip: '127.0.0.10' })],
      services: [service('web', 'web', { directors: ['lvs-1', 'lvs-far'] }), service('api', 'api', { directors: ['lvs-1'] })],
    }),
    layout,
  );
  assert.deepEqual(fleet.agents, [
    { host: 'lvs-1', ip: '127.0.0.10', keepalivedConf: '/tmp/x/.ygg/keepalived/lvs-1.conf' },
    { host: 'web-1', ip: '127.0.0.11' },
  ]);
  assert.deepEqual(fleet.renderers, [
    { name: 'render-keepalived-lvs-far', args: ['render', 'keepalived', '--director', 'lvs-far', '--out', '/tmp/x/.ygg/keepalived/lvs-far.conf'], target: '/tmp/x/.ygg/keepalived/lvs-far.conf' },
  ]);
  assert.deepEqual([...fleet.keepalivedConfs.keys()], ['lvs-1', 'lvs-far']);
  assert.deepEqual(fleet.unreachableHosts, []);
});

it('names the hosts whose address this machine does not have, and maps nothing', () => {
  const fleet = devFleet(model({ hosts: [host('web-1', { ip: '10.1.1.11' }), host('web-2', { ip: '127.0.0.12' })] }), layout);
  assert.deepEqual(fleet.unreachableHosts, [{ host: 'web-1', ip: '10.1.1.11' }]);
  assert.deepEqual(fleet.agents.map((agent) => agent.ip), ['10.1.1.11', '127.0.0.12']);
});
