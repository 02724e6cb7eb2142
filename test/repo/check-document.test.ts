// Checks of one document alone, through the loader: each case breaks one file of the small fleet
// and expects exactly the located lines `ygg validate` prints.
import { describe, it } from 'node:test';
import { edit } from '../fixtures/small-fleet.js';
import { assertFindings } from './load-findings.js';

describe('names of Object.prototype are not variables, ports or labels', () => {
  for (const name of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__']) {
    it(`{{${name}}} in a config template is a located unknown variable`, () =>
      assertFindings(edit('jobs/frontend.yaml', 'listen: {{host.ip}}', `listen: {{${name}}}`), [
        `jobs/frontend.yaml:14:17: unknown template variable "${name}" (known: host, job, dirs, tags, ports)`,
      ]));
  }

  it('{{constructor}} in a command argument', () =>
    assertFindings(edit('jobs/search.yaml', '"{{ports.http}}"', '"{{constructor}}"'), [/^jobs\/search\.yaml:9:33: unknown template variable "constructor"/.source]));

  it('a health check on port "constructor"', () =>
    assertFindings(edit('jobs/frontend.yaml', 'http: { port: http, path: /health }', 'http: { port: constructor, path: /health }'), [
      'jobs/frontend.yaml:18:27: health check port "constructor" is not one of the job\'s ports (http)',
    ]));
});

describe('addresses nothing can connect to', () => {
  // lvs-a1 runs no job behind the VIP: an IPv6 address there is no family mismatch.
  const unusable: [string, string][] = [
    ['0.0.0.0', 'is in 0.0.0.0/8 ("this host"), which is never a destination'],
    ['0.1.2.3', 'is in 0.0.0.0/8 ("this host"), which is never a destination'],
    ['"::"', 'is the unspecified address'],
    ['"::ffff:0.0.0.0"', 'is the unspecified address'],
    ['255.255.255.255', 'is the broadcast address'],
    ['224.0.0.1', 'is a multicast address (224.0.0.0/4)'],
    ['"ff02::1"', 'is a multicast address (ff00::/8)'],
    ['169.254.1.1', 'is a link-local address (169.254.0.0/16), valid on one link only'],
    ['"fe80::1"', 'is a link-local address (fe80::/10), which needs a zone index'],
  ];
  for (const [ip, problem] of unusable) {
    it(`host ip ${ip}`, () =>
      assertFindings(edit('hosts.yaml', 'ip: 10.0.9.1', `ip: ${ip}`), [
        `hosts.yaml:24:13: ip ${ip.replace(/"/g, '')} ${problem}: nothing can connect to the host there (naming registers it, LVS and health checks connect to it)`,
      ]));
  }

  it('a vip address, a sorry server and a health check host get the same treatment', () =>
    assertFindings(
      {
        ...edit('services.yaml', 'vip: { address: 10.0.100.1, port: 80, lbKind: NAT }', 'vip: { address: 224.0.0.9, port: 80, lbKind: NAT, sorryServer: { address: 255.255.255.255, port: 80 } }'),
        ...edit('jobs/frontend.yaml', 'http: { port: http, path: /health }', 'http: { port: http, path: /health, host: 0.0.0.0 }'),
      },
      [
        /^services\.yaml:7:19: vip address 224\.0\.0\.9 is a multicast address \(224\.0\.0\.0\/4\): clients cannot reach a virtual server there$/.source,
        /^services\.yaml:7:\d+: sorry server 255\.255\.255\.255 is the broadcast address: LVS cannot send traffic there$/.source,
        /^jobs\/frontend\.yaml:18:\d+: health check host 0\.0\.0\.0 is in 0\.0\.0\.0\/8 .*: a check cannot connect there$/.source,
      ],
    ));

  it('loopback stays allowed for a health check host and a sorry server', () =>
    assertFindings(
      {
        ...edit('services.yaml', 'lbKind: NAT }', 'lbKind: NAT, sorryServer: { address: 127.0.0.1, port: 8080 } }'),
        ...edit('jobs/frontend.yaml', 'http: { port: http, path: /health }', 'http: { port: http, path: /health, host: 127.0.0.1 }'),
      },
      [],
    ));
});

describe('secret references', () => {
  it('a secret named by a variable in a config template is located', () =>
    assertFindings(edit('jobs/frontend.yaml', 'listen: {{host.ip}}', 'listen: {{secret host.name}}'), [
      /^jobs\/frontend\.yaml:14:17: secret needs a quoted name, not the variable "host\.name"/.source,
    ]));

  it('a secret in a command argument is refused: every user of the host reads argv', () =>
    assertFindings(edit('jobs/search.yaml', '"{{ports.http}}"', '"{{secret \\"db-password\\"}}"'), [
      /^jobs\/search\.yaml:9:33: a secret in a command line is readable by every user of the host \(ps\)/.source,
    ]));
});
