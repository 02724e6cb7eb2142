import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RenderInputs } from '../../src/render/render-inputs.js';
import { hostRecord, namingRecord, syncCurrentRecord, vipRecord } from './render-records.js';

test('the commit in force comes from sync/current, directors from VIPs and hosts', () => {
  const inputs = new RenderInputs();
  inputs.put('vips/web', vipRecord('web', '192.0.2.10', ['lb1', 'lb2'], 'old'));
  inputs.put('hosts/lb3', hostRecord('lb3', '10.0.9.3'));
  inputs.put('sync/current', syncCurrentRecord('c7'));
  assert.equal(inputs.current('lb1', '5').commit, 'c7', 'not the VIP record’s commit');
  assert.deepEqual([...inputs.knownDirectors()].sort(), ['lb1', 'lb2', 'lb3']);
  inputs.remove('sync/current', '6');
  assert.equal(inputs.current('lb1', '6').commit, undefined);
});

test('a bad value never takes a record away: the last valid one stays, a new key is left out, both are reported', () => {
  const inputs = new RenderInputs();
  inputs.put('vips/web', vipRecord('web', '192.0.2.10', ['lb1']));
  inputs.put('naming/web/h1:80', namingRecord('h1', '10.0.0.1'));
  assert.match(inputs.put('naming/web/h1:80', { ip: 1 }) ?? '', /not a valid NamingRecord: .*; kept the last valid value/);
  assert.match(inputs.reject('naming/web/h2:80', 'not JSON: "{"'), /left out/);
  assert.match(inputs.put('sync/current', { ...syncCurrentRecord('x'), commit: { ...syncCurrentRecord('x').commit, sha: 'a b\n}' } }) ?? '', /commit\.sha/);
  const data = inputs.current('lb1', '9');
  assert.deepEqual(data.services[0]!.endpoints.map((endpoint) => endpoint.ip), ['10.0.0.1']);
  assert.deepEqual(data.skipped?.map((entry) => entry.key), ['naming/web/h1:80', 'naming/web/h2:80', 'sync/current']);
  // fixed or deleted: no longer reported
  inputs.put('naming/web/h1:80', namingRecord('h1', '10.0.0.11'));
  inputs.remove('naming/web/h2:80', '10');
  assert.deepEqual(inputs.current('lb1', '10').skipped?.map((entry) => entry.key), ['sync/current']);
});

test('a bad naming entry of a service this director does not render is not in its report', () => {
  const inputs = new RenderInputs();
  inputs.put('vips/web', vipRecord('web', '192.0.2.10', ['lb1']));
  inputs.put('naming/other/h1:80', { nope: true });
  assert.equal(inputs.current('lb1', '1').skipped, undefined);
  assert.equal(inputs.current(undefined, '1').skipped, undefined, 'a service known only by a bad entry renders nowhere');
  inputs.put('naming/other/h2:80', namingRecord('h2', '10.0.0.2', 80, 'other'));
  assert.deepEqual(inputs.current(undefined, '1').skipped?.map((entry) => entry.key), ['naming/other/h1:80']);
});

test('replaceAll forgets keys that are gone, keeps last valid values of keys that went bad', () => {
  const inputs = new RenderInputs();
  inputs.put('vips/web', vipRecord('web', '192.0.2.10', ['lb1']));
  inputs.put('naming/web/h1:80', namingRecord('h1', '10.0.0.1'));
  inputs.put('naming/web/h2:80', namingRecord('h2', '10.0.0.2'));
  // both agents alive: h2's entry really went away (had its agent gone, the entry would be kept)
  const agents: [string, unknown][] = [['agents/h1', { host: 'h1' }], ['agents/h2', { host: 'h2' }]];
  inputs.replaceAll(new Map<string, unknown>([['vips/web', vipRecord('web', '192.0.2.10', ['lb1'])], ['naming/web/h1:80', 'garbage'], ...agents]), [], '3');
  const data = inputs.current('lb1', '3');
  assert.deepEqual(data.services[0]!.endpoints.map((endpoint) => endpoint.host), ['h1']);
  assert.equal(inputs.namingRecords, 1);
  assert.deepEqual(data.skipped?.map((entry) => entry.key), ['naming/web/h1:80']);
});

test('an endpoint whose agent is gone is kept until the agent is back, its replicas are released, or its host leaves the repo; a drain drops it at once', () => {
  const inputs = new RenderInputs();
  const ips = () => inputs.current('lb1', '1').services[0]!.endpoints.map((endpoint) => endpoint.ip);
  inputs.put('vips/web', vipRecord('web', '192.0.2.10', ['lb1']));
  for (const [name, ip] of [['h1', '10.0.0.1'], ['h2', '10.0.0.2'], ['h3', '10.0.0.3']] as const) {
    inputs.put(`hosts/${name}`, hostRecord(name, ip));
    inputs.put(`agents/${name}`, { host: name });
    inputs.put(`naming/web/${name}:80`, namingRecord(name, ip));
  }
  // h1 drains (its agent is alive): gone at once
  inputs.remove('naming/web/h1:80', '10');
  assert.deepEqual(ips(), ['10.0.0.2', '10.0.0.3']);
  // h2's and h3's leases run out (agents dead or cut off): the LB keeps them, keepalived checks them
  for (const name of ['h2', 'h3']) {
    // one revision: a lease deletes all its keys at once
    inputs.remove(`agents/${name}`, '11');
    inputs.remove(`naming/web/${name}:80`, '11');
  }
  assert.deepEqual(ips(), ['10.0.0.2', '10.0.0.3']);
  assert.equal(inputs.keptRecords, 2);
  inputs.put('lost/h2', { host: 'h2', since: 'x' });
  assert.deepEqual(ips(), ['10.0.0.2', '10.0.0.3'], 'lost, not yet moved');
  inputs.put('lost/h2', { host: 'h2', since: 'x', rescheduledAt: 'y' });
  assert.deepEqual(ips(), ['10.0.0.3'], 'its replicas released to move: dropped');
  inputs.put('agents/h3', { host: 'h3' });
  assert.deepEqual(ips(), [], 'its agent is back and registers what is healthy');
  inputs.remove('agents/h3', '12');
  assert.equal(inputs.keptRecords, 0);
});

test('kept or dropped is judged by revision, not by the order the agents/ and naming/ watches deliver in', () => {
  const inputs = new RenderInputs();
  const ips = () => inputs.current('lb1', '1').services[0]!.endpoints.map((endpoint) => endpoint.ip);
  inputs.put('vips/web', vipRecord('web', '192.0.2.10', ['lb1']));
  for (const [name, ip] of [['h1', '10.0.0.1'], ['h2', '10.0.0.2']] as const) {
    inputs.put(`hosts/${name}`, hostRecord(name, ip));
    inputs.put(`agents/${name}`, { host: name });
    inputs.put(`naming/web/${name}:80`, namingRecord(name, ip));
  }
  // h1's lease runs out at revision 20; the naming delete arrives before the agent's
  inputs.remove('naming/web/h1:80', '20');
  inputs.remove('agents/h1', '20');
  assert.deepEqual(ips(), ['10.0.0.1', '10.0.0.2'], 'went with its agent: kept');
  assert.equal(inputs.keptRecords, 1);
  // h2 drains at 21 (its agent alive), and its agent dies later, at 25: the drained entry stays out
  inputs.remove('naming/web/h2:80', '21');
  assert.deepEqual(ips(), ['10.0.0.1']);
  inputs.remove('agents/h2', '25');
  assert.deepEqual(ips(), ['10.0.0.1'], 'a drained entry is not brought back by its agent dying');
  assert.equal(inputs.keptRecords, 1);
});

test('refreshed agent facts and an unchanged lost/ record are no change to render; a new agent or a release is', () => {
  const inputs = new RenderInputs();
  inputs.put('agents/h1', { host: 'h1' });
  const version = inputs.version;
  inputs.put('agents/h1', { host: 'h1', updatedAt: 'later' });
  inputs.put('lost/h2', { host: 'h2', since: 'x' });
  assert.equal(inputs.version, version);
  inputs.put('lost/h2', { host: 'h2', since: 'x', rescheduledAt: 'y' });
  assert.ok(inputs.version > version);
  const released = inputs.version;
  inputs.put('agents/h3', { host: 'h3' });
  assert.ok(inputs.version > released);
});
