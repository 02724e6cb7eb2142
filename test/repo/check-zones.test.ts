// Zone documents through the loader: each case adds a zone to the small fleet and expects exactly
// the located lines `ygg validate` prints.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SMALL_FLEET } from '../fixtures/small-fleet.js';
import { assertFindings, loadFleet } from './load-findings.js';

const SECOND_SERVICE = `---
apiVersion: ygg/v1
kind: Service
metadata: { name: acme.shop.search }
spec: { job: search, port: http }
`;

function zone(spec: string, name = 'svc.acme.test'): string {
  return `apiVersion: ygg/v1
kind: Zone
metadata: { name: ${name} }
spec:
${spec}`;
}

const NS = '  nameServers: [{ name: ns1.svc.acme.test, addresses: [10.0.9.53] }]\n';
const withZone = (spec: string, extra: Record<string, string> = {}) => ({ 'services.yaml': SMALL_FLEET['services.yaml'] + SECOND_SERVICE, 'zones/svc.yaml': zone(spec), ...extra });

describe('Zone documents', () => {
  it('a valid zone loads, with its defaults and its globs resolved against the services', async () => {
    const result = await loadFleet(withZone(`${NS}  publish:\n    - { service: "acme.shop.*", name: "*.shop" }\n`));
    assert.deepEqual(result.findings, []);
    const loaded = result.model!.zones.get('svc.acme.test')!;
    assert.equal(loaded.ttlSeconds, 60);
    assert.deepEqual(loaded.soa, { refreshSeconds: 3600, retrySeconds: 600, expireSeconds: 604800, negativeTtlSeconds: 60 });
    assert.deepEqual(loaded.nameServers, [{ name: 'ns1.svc.acme.test', addresses: ['10.0.9.53'] }]);
  });

  it('an unknown service is an error at its entry, with the closest name', () =>
    assertFindings(withZone(`${NS}  publish:\n    - { service: acme.shop.wwww }\n`), ['zones/svc.yaml:7:18: unknown service "acme.shop.wwww" (no Service document has that name); did you mean "acme.shop.www"?']));

  it('a glob that matches nothing is a warning; two stars are an error', () =>
    assertFindings(withZone(`${NS}  publish:\n    - { service: "acme.mail.*" }\n    - { service: "acme.*.*" }\n`), [
      'zones/svc.yaml:7:18: warning: service pattern "acme.mail.*" matches no service: it publishes nothing',
      'zones/svc.yaml:8:18: service pattern "acme.*.*" has 2 "*": at most one',
    ]));

  it('a name server inside the zone without addresses is an error (named-checkzone would refuse the zone)', () =>
    assertFindings(withZone(`  nameServers:\n    - { name: ns1.svc.acme.test }\n  publish: []\n`), [
      /^zones\/svc\.yaml:6:15: name server ns1\.svc\.acme\.test lies inside zone svc\.acme\.test but has no addresses/.source,
    ]));

  it('two services under one record name, and a service on a name server\'s name, are errors', () =>
    assertFindings(withZone(`${NS}  publish:\n    - { service: "acme.shop.*", name: web }\n    - { service: acme.shop.www, name: ns1 }\n`), [
      'zones/svc.yaml:7:39: record name "web" would publish both acme.shop.search (publish[0]) and acme.shop.www: a name publishes one service',
      'zones/svc.yaml:8:39: record name "ns1" (service acme.shop.www) is the name of a name server of the zone',
    ]));

  it('a record name the zone file cannot hold is an error at the name that made it', () =>
    assertFindings(withZone(`${NS}  publish:\n    - { service: "acme.shop.*", name: "*-.x" }\n    - { service: acme.shop.www, name: "a${'b'.repeat(63)}" }\n`), [
      /^zones\/svc\.yaml:7:39: record name "search-\.x" \(service acme\.shop\.search\): is not a name/.source,
      /^zones\/svc\.yaml:7:39: record name "www-\.x" \(service acme\.shop\.www\): is not a name/.source,
      /^zones\/svc\.yaml:8:39: record name "ab{63}" \(service acme\.shop\.www\): is too long for a DNS name in zone svc\.acme\.test$/.source,
    ]));

  it('a "*" in a record name needs a glob to fill it', () =>
    assertFindings(withZone(`${NS}  publish:\n    - { service: acme.shop.www, name: "*.www" }\n`), ['zones/svc.yaml:7:39: record name "*.www" has a "*" but service "acme.shop.www" is no glob to fill it']));

  it('the same origin twice is a duplicate zone', () =>
    assertFindings(withZone(`${NS}  publish: []\n`, { 'zones/again.yaml': zone(`${NS}  publish: []\n`) }), ['zones/svc.yaml:3:19: duplicate zone "svc.acme.test": already declared in zones/again.yaml']));

  it('a name server outside the zone needs no addresses, and given ones are not used (warning)', () =>
    assertFindings(withZone(`  nameServers:\n    - { name: ns.example.net }\n    - { name: ns2.example.net, addresses: [192.0.2.53] }\n  publish: []\n`), [
      'zones/svc.yaml:7:43: warning: name server ns2.example.net lies outside zone svc.acme.test: its addresses are not written (they belong in its own zone)',
    ]));
});
