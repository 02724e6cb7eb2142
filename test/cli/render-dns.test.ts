// DNS from the repo end to end on a real etcd: a Zone document committed to a git repo, published
// by an in-process controller (zones/<origin>), rendered by `ygg render dns --once` from it and the
// live naming, and the result accepted by the real named-checkzone.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { startZoneFile } from '../../src/render/zone-file.js';
import type { ZoneRecord } from '../../src/store/records.js';
import { FleetView, reconcileNow, startInProcess, tempDir, waitUntil } from '../fixtures/controller-harness.js';
import { uniquePrefix, useSharedEtcd } from '../fixtures/etcd-server.js';
import { createGitFleet } from '../fixtures/git-fleet.js';
import { SMALL_FLEET } from '../fixtures/small-fleet.js';
import { namingRecord } from '../render/render-records.js';
import { runCli } from './run-cli.js';

const etcd = useSharedEtcd();
const ORIGIN = 'svc.acme.test';

const SEARCH_SERVICE = `${SMALL_FLEET['services.yaml']}---
apiVersion: ygg/v1
kind: Service
metadata: { name: acme.shop.search }
spec: { job: search, port: http }
`;

function zoneFile(nameServers: string): string {
  return `apiVersion: ygg/v1
kind: Zone
metadata: { name: ${ORIGIN} }
spec:
  ttlSeconds: 30
  nameServers:
${nameServers}
  publish:
    - { service: "acme.shop.*", name: "*" }
`;
}

const lines = (text: string, pattern: RegExp) => text.split('\n').filter((line) => pattern.test(line));

test('a Zone in the repo → the controller publishes it → ygg render dns --once writes a zone named-checkzone accepts', async () => {
  const prefix = uniquePrefix('render-dns');
  const fleet = createGitFleet();
  const first = fleet.commit('Publish the shop in DNS', { 'services.yaml': SEARCH_SERVICE, 'zone.yaml': zoneFile('    - { name: ns1.svc.acme.test, addresses: [10.0.9.53] }') });
  const view = new FleetView(etcd.url, prefix);
  const controller = await startInProcess({ repo: fleet.dir, etcdPrefix: prefix, etcdUrl: etcd.url });
  etcd.cleanups.push(() => view.close(), () => controller.close());
  const zoneKey = view.layout.zone(ORIGIN);
  const published = await waitUntil(async () => (await view.values(zoneKey)).get(zoneKey) as ZoneRecord | undefined, 'zones/svc.acme.test');
  assert.equal(published.commit, first);
  assert.deepEqual(published.records, [
    { name: 'search', service: 'acme.shop.search' },
    { name: 'www', service: 'acme.shop.www' },
  ]);
  // Two healthy instances of search (no VIP: one A record each) registered as agents do.
  await view.store.applyBatch([
    { put: view.layout.naming('acme.shop.search', 'web-a2', 8090), value: namingRecord('web-a2', '10.0.0.2', 8090, 'search') },
    { put: view.layout.naming('acme.shop.search', 'web-b1', 8090), value: namingRecord('web-b1', '10.0.1.1', 8090, 'search') },
  ]);

  const dir = tempDir('render-dns');
  const out = path.join(dir, 'svc.acme.test.zone');
  const render = (zone = ORIGIN) => runCli('render', 'dns', '--zone', zone, '--etcd', etcd.url, '--etcd-prefix', prefix, '--out', out, '--once', '--log-level', 'error');
  const result = await render();
  assert.equal(result.code, 0, result.stderr);
  const text = readFileSync(out, 'utf8');
  assert.deepEqual(lines(text, / IN (NS|A) /), ['@ IN NS ns1.svc.acme.test.', 'ns1 IN A 10.0.9.53', 'search IN A 10.0.0.2', 'search IN A 10.0.1.1', 'www IN A 10.0.100.1']);
  assert.match(text, new RegExp(`rendered by Yggdrasil from commit ${first}`));
  execFileSync('named-checkzone', [ORIGIN, out], { stdio: 'pipe' });

  // A second name server by commit: republished, rendered, still accepted.
  const second = fleet.commit('Second name server', { 'zone.yaml': zoneFile('    - { name: ns1.svc.acme.test, addresses: [10.0.9.53] }\n    - { name: ns2.svc.acme.test, addresses: ["2001:db8::53"] }') });
  await reconcileNow(controller);
  await waitUntil(async () => ((await view.values(zoneKey)).get(zoneKey) as ZoneRecord | undefined)?.commit === second, 'the zone of the second commit');
  // written as an FQDN, with its trailing dot, it names the same zone
  assert.equal((await render(`${ORIGIN}.`)).code, 0);
  const again = readFileSync(out, 'utf8');
  assert.deepEqual(lines(again, / IN (NS|AAAA) /), ['@ IN NS ns1.svc.acme.test.', '@ IN NS ns2.svc.acme.test.', 'ns2 IN AAAA 2001:db8::53']);
  execFileSync('named-checkzone', [ORIGIN, out], { stdio: 'pipe' });

  // What `ygg dev` runs: the same file from the exposed function.
  const devOut = path.join(dir, 'dev.zone');
  const running = await startZoneFile({ etcd: { endpoints: [etcd.url] }, etcdPrefix: prefix, zone: ORIGIN, target: devOut, logger: pino({ level: 'silent' }) });
  try {
    assert.equal(running.first.lastError, undefined);
    // The same file but for the etcd revision (header and serial): a shared etcd moves on meanwhile.
    const withoutRevision = (text: string) => text.replace(/etcd revision \d+/, 'etcd revision N').replace(/^ {4}\d+ ; serial$/m, '    N ; serial');
    assert.equal(withoutRevision(readFileSync(devOut, 'utf8')), withoutRevision(again));
  } finally {
    await running.close();
  }

  // The Zone leaves the repo: the key goes, and rendering it is a clear error that leaves the file alone.
  fleet.commit('No more DNS', { 'zone.yaml': null });
  await reconcileNow(controller);
  await waitUntil(async () => !(await view.values(zoneKey)).has(zoneKey), 'zones/svc.acme.test deleted');
  const gone = await render();
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /unknown zone "svc\.acme\.test": the commit in force declares no Zone with that origin; etcd holds no zone: declare one in the repo \(kind: Zone\)/);
  assert.equal(readFileSync(out, 'utf8'), again);
});
