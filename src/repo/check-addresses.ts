// Addresses something must connect to: a host's ip (naming registers it, LVS and health checks
// connect to it), a VIP, a sorry server, a health check's host. The schema admits any IP literal;
// these checks refuse the ones no connection can go to, and loopback where it cannot work.
import { addressScope, canonicalIp, parseIp, type AddressScope } from '../model/ip-address.js';
import type { Host, Model } from '../model/types.js';
import type { Report } from './finding.js';

const UNUSABLE: Readonly<Partial<Record<AddressScope, (family: 4 | 6) => string>>> = {
  unspecified: (family) => (family === 4 ? 'in 0.0.0.0/8 ("this host"), which is never a destination' : 'the unspecified address'),
  broadcast: () => 'the broadcast address',
  multicast: (family) => `a multicast address (${family === 4 ? '224.0.0.0/4' : 'ff00::/8'})`,
  'link-local': (family) => (family === 4 ? 'a link-local address (169.254.0.0/16), valid on one link only' : 'a link-local address (fe80::/10), which needs a zone index'),
};

/**
 * Why nothing can connect to `ip` (e.g. "is the broadcast address"), or undefined when it is a
 * unicast or loopback address. A text that is no address at all is the schema's to report.
 */
export function unusableAddress(ip: string): string | undefined {
  const address = parseIp(ip);
  if (!address) return undefined;
  const describe = UNUSABLE[addressScope(address)];
  return describe && `is ${describe(address.family)}`;
}

export function isLoopback(ip: string): boolean {
  const address = parseIp(ip);
  return address !== undefined && addressScope(address) === 'loopback';
}

/**
 * Loopback works for a fleet on one machine (each host on its own 127.0.0.x) and nowhere else.
 * Two hosts with one address (in any spelling) cannot both be reached.
 */
export function checkFleetAddresses(model: Model, report: Report): void {
  const byIp = new Map<string, Host>();
  const loopback: Host[] = [];
  let reachable: Host | undefined;
  for (const host of model.hosts.values()) {
    const key = canonicalIp(host.ip);
    const other = byIp.get(key);
    if (other) report(host.origin, ['spec', 'ip'], 'E_DUPLICATE_IP', `ip ${host.ip} is also the ip of host ${other.name} (${other.origin.file})`);
    else byIp.set(key, host);
    if (isLoopback(host.ip)) loopback.push(host);
    else reachable ??= host;
  }
  if (reachable) {
    for (const host of loopback) {
      report(host.origin, ['spec', 'ip'], 'W_LOOPBACK_HOST', `ip ${host.ip} is a loopback address, but other hosts are not (e.g. ${reachable.name} ${reachable.ip}): only this machine reaches it; loopback is for fleets that run on one machine`, 'warning');
    }
  }
  const localFleet = loopback.length > 0 && !reachable;
  for (const service of model.services.values()) {
    const address = service.vip?.address;
    if (address === undefined) continue;
    if (!localFleet && isLoopback(address)) {
      report(service.origin, ['spec', 'vip', 'address'], 'E_VIP_LOOPBACK', `vip address ${address} is a loopback address: clients on other machines cannot reach it (allowed only when every host is on loopback, a fleet on one machine)`);
    }
    // A director may serve its own address (LVS-NAT on the director's public ip); any other host's is taken.
    const owner = byIp.get(canonicalIp(address));
    if (owner && !service.directors.includes(owner.name)) {
      report(service.origin, ['spec', 'vip', 'address'], 'E_VIP_HOST_IP', `vip address ${address} is the ip of host ${owner.name} (${owner.origin.file}), which is not one of the service's directors: a VIP needs an address of its own`);
    }
  }
}
