// Cross-document checks, through the loader: each case changes the small fleet and expects exactly
// the located lines `ygg validate` prints.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LbKind } from '../../src/model/types.js';
import { serverProblems } from '../../src/render/check-endpoint.js';
import { edit, SMALL_FLEET } from '../fixtures/small-fleet.js';
import { assertFindings, loadFleet } from './load-findings.js';

describe('names of Object.prototype are not ports or labels', () => {
  it('a service on port "constructor"', () =>
    assertFindings(edit('services.yaml', 'port: http', 'port: constructor'), ['services.yaml:6:9: job frontend has no port named "constructor" (ports: http)']));

  it('a template reading host.labels.constructor needs that label on every host', () =>
    assertFindings(edit('jobs/frontend.yaml', 'listen: {{host.ip}}', 'listen: {{host.labels.constructor}}'), [
      'jobs/frontend.yaml:14:17: the template reads host.labels.constructor, but host(s) web-a1, web-a2, web-b1 and 1 more of the job\'s tree node have no label "constructor"',
    ]));
});

describe('a VIP is checked as LVS and keepalived will take it', () => {
  const vip = (fields: string) => edit('services.yaml', 'vip: { address: 10.0.100.1, port: 80, lbKind: NAT }', `vip: { address: 10.0.100.1, ${fields} }`);

  for (const kind of ['DR', 'TUN']) {
    it(`lbKind ${kind} in front of a job port other than the VIP port is rejected at the VIP`, () =>
      assertFindings(vip(`port: 80, lbKind: ${kind}`), [
        `services.yaml:7:37: lbKind ${kind} forwards packets unchanged and cannot remap ports: vip port 80, but port "http" of job frontend is 8080; use lbKind NAT, or vip port 8080`,
      ]));
  }

  it('DR on the job port, and NAT remapping it, pass', async () => {
    await assertFindings(vip('port: 8080, lbKind: DR'), []);
    await assertFindings(vip('port: 80, lbKind: NAT, sorryServer: { address: 10.0.9.9, port: 8000 }'), []);
  });

  it('with DR the sorry server listens on the VIP port too', () =>
    assertFindings(vip('port: 8080, lbKind: DR, sorryServer: { address: 10.0.9.9, port: 80 }'), [
      /^services\.yaml:7:\d+: lbKind DR forwards packets unchanged and cannot remap ports: the sorry server must listen on the vip port 8080, not 80; use lbKind NAT, or port 8080$/.source,
    ]));

  it('an IPv6 VIP in front of IPv4 hosts, and a sorry server of the other family, are rejected', () =>
    assertFindings(
      edit('services.yaml', 'vip: { address: 10.0.100.1, port: 80, lbKind: NAT }', 'vip: { address: "fd00::1", port: 80, lbKind: NAT, sorryServer: { address: 10.0.9.9, port: 80 } }'),
      [
        'services.yaml:7:19: the vip is IPv6 but host(s) web-a1 (10.0.0.1), web-a2 (10.0.0.2), web-b1 (10.0.1.1) and 1 more of job frontend are not: LVS cannot forward across families, keepalived would leave them out',
        /^services\.yaml:7:\d+: the sorry server 10\.0\.9\.9 is IPv4 but the vip is IPv6: LVS cannot forward across families$/.source,
      ],
    ));

  it('two spellings of one VIP address clash', () =>
    assertFindings(
      {
        'services2.yaml': 'apiVersion: ygg/v1\nkind: Service\nmetadata: { name: acme.shop.search }\nspec:\n  job: search\n  port: http\n  vip: { address: "::ffff:a00:6401", port: 80, lbKind: NAT }\n  directors: [lvs-a1]\n',
        ...edit('services.yaml', 'address: 10.0.100.1', 'address: "::ffff:10.0.100.1"'),
      },
      [
        /^services2\.yaml:7:19: vip ::ffff:a00:6401:80\/TCP is already used by service acme\.shop\.www$|^services\.yaml:7:19: vip ::ffff:10\.0\.100\.1:80\/TCP is already used by service acme\.shop\.search$/.source,
        /^services2?\.yaml:7:19: the vip is IPv6 but host\(s\)/.source,
        /^services2?\.yaml:7:19: the vip is IPv6 but host\(s\)/.source,
      ],
    ));
});

describe('loopback addresses', () => {
  const allLoopback = { '10.0.0.1': '127.0.0.11', '10.0.0.2': '127.0.0.12', '10.0.1.1': '127.0.0.13', '10.0.1.2': '127.0.0.14', '10.0.9.1': '127.0.0.15' };
  const hostsOn = (ips: Record<string, string>) => ({ 'hosts.yaml': Object.entries(ips).reduce((text, [ip, local]) => text.replace(`ip: ${ip},`, `ip: ${local},`), SMALL_FLEET['hosts.yaml']!) });

  it('a fleet on one machine (every host on loopback) passes, its VIP on loopback too', () =>
    assertFindings({ ...hostsOn(allLoopback), ...edit('services.yaml', 'address: 10.0.100.1', 'address: 127.0.0.100') }, []));

  it('a loopback host among reachable ones is a warning, not an error', async () => {
    await assertFindings(edit('hosts.yaml', 'ip: 10.0.0.2', 'ip: 127.0.0.12'), [
      'hosts.yaml:9:13: warning: ip 127.0.0.12 is a loopback address, but other hosts are not (e.g. web-a1 10.0.0.1): only this machine reaches it; loopback is for fleets that run on one machine',
    ]);
    assert.ok((await loadFleet(edit('hosts.yaml', 'ip: 10.0.0.2', 'ip: 127.0.0.12'))).model, 'a warning keeps the model');
  });

  it('a loopback VIP in a fleet of reachable hosts is an error', () =>
    assertFindings(edit('services.yaml', 'address: 10.0.100.1', 'address: 127.0.0.100'), [
      'services.yaml:7:19: vip address 127.0.0.100 is a loopback address: clients on other machines cannot reach it (allowed only when every host is on loopback, a fleet on one machine)',
    ]));

  it('two spellings of one host ip are a duplicate', () =>
    assertFindings(hostsOn({ '10.0.9.1': '"fd00::1"', '10.0.0.2': '"fd00:0::1"' }), [/^hosts\.yaml:24:13: ip fd00::1 is also the ip of host web-a2|^hosts\.yaml:9:13: ip fd00:0::1 is also the ip of host lvs-a1/.source, /^services\.yaml:7:19: the vip is IPv4 but host\(s\) web-a2/.source]));
});

describe('the validator and the renderer agree on what a director can serve', () => {
  const cases: [port: number, lbKind: LbKind][] = [
    [8080, 'DR'],
    [80, 'NAT'],
    [8080, 'TUN'],
    [8080, 'NAT'],
    [80, 'DR'],
    [8081, 'TUN'],
  ];
  for (const [port, lbKind] of cases) {
    it(`vip port ${port}, lbKind ${lbKind}`, async () => {
      const loaded = await loadFleet(edit('services.yaml', 'port: 80, lbKind: NAT', `port: ${port}, lbKind: ${lbKind}`));
      // The renderer's verdict on every real server the VIP gets: each host of the job, on the job's port.
      const { model, index } = await loadFleet({});
      const service = model!.services.get('acme.shop.www')!;
      const job = model!.jobs.get(service.job)!;
      const vip = { ...service.vip!, port, lbKind };
      const refused = index!.nodeHosts(index!.jobNode(job)!).flatMap((host) => serverProblems(vip, host.ip, job.spec.ports[service.port]));
      assert.equal(loaded.model !== undefined, refused.length === 0, `validator: ${JSON.stringify(loaded.findings)}; renderer: ${JSON.stringify(refused)}`);
    });
  }
});

describe('a VIP on a host\'s address', () => {
  it('the ip of a host that is not a director of the service is taken', () =>
    assertFindings(edit('services.yaml', 'address: 10.0.100.1', 'address: 10.0.0.2'), [
      'services.yaml:7:19: vip address 10.0.0.2 is the ip of host web-a2 (hosts.yaml), which is not one of the service\'s directors: a VIP needs an address of its own',
    ]));

  it('the director\'s own ip may serve as the VIP', () => assertFindings(edit('services.yaml', 'address: 10.0.100.1', 'address: 10.0.9.1'), []));
});
