// Service documents against the rest of the model: the job and port they name, their directors,
// and the LVS virtual server a VIP becomes. The VIP rules are the renderer's and keepalived's
// (see src/render/check-endpoint.ts), checked here so a commit fails at its VIP's file:line and
// never reaches a director, where one bad VIP would hold the whole director's config.
import type { FleetIndex } from '../model/fleet-index.js';
import { canonicalIp, parseIp } from '../model/ip-address.js';
import type { Host, Model, Service, Vip } from '../model/types.js';
import type { Report } from './finding.js';

/** Whether a document of that kind and name exists but failed its schema (already reported). */
export type InvalidDeclaration = (kind: 'Host' | 'Job', name: string) => boolean;

const MAX_NAMED_HOSTS = 3;

export function checkServices(model: Model, index: FleetIndex, isInvalid: InvalidDeclaration, report: Report): void {
  const vipOwners = new Map<string, string>();
  for (const service of model.services.values()) {
    const job = model.jobs.get(service.job);
    if (!job) {
      if (!isInvalid('Job', service.job)) report(service.origin, ['spec', 'job'], 'E_REF_JOB', `unknown job "${service.job}" (no Job document has that name)`);
    } else if (!Object.hasOwn(job.spec.ports, service.port)) {
      const ports = Object.keys(job.spec.ports).join(', ') || 'none';
      report(service.origin, ['spec', 'port'], 'E_REF_PORT', `job ${job.name} has no port named "${service.port}" (ports: ${ports})`);
    }
    service.directors.forEach((name, position) => {
      if (!model.hosts.has(name) && !isInvalid('Host', name)) report(service.origin, ['spec', 'directors', position], 'E_REF_HOST', `unknown director host "${name}" (no Host document has that name)`);
    });
    const vip = service.vip;
    if (!vip) {
      if (service.directors.length > 0) report(service.origin, ['spec', 'directors'], 'W_DIRECTORS_WITHOUT_VIP', 'directors are only used with a vip', 'warning');
      continue;
    }
    if (service.directors.length === 0) report(service.origin, ['spec', 'vip'], 'E_VIP_DIRECTORS', 'a vip needs at least one director host in spec.directors');
    // One address has many spellings (::1, 0::1): compare them as addresses.
    const key = `${canonicalIp(vip.address)}:${vip.port}/${vip.protocol}`;
    const owner = vipOwners.get(key);
    if (owner) report(service.origin, ['spec', 'vip', 'address'], 'E_VIP_CLASH', `vip ${vip.address}:${vip.port}/${vip.protocol} is already used by service ${owner}`);
    else vipOwners.set(key, service.name);
    const realServerPort = job && Object.hasOwn(job.spec.ports, service.port) ? job.spec.ports[service.port] : undefined;
    checkForwarding(service, vip, realServerPort, report);
    const node = job && index.jobNode(job);
    checkFamilies(service, vip, node ? index.nodeHosts(node) : [], report);
  }
}

/** DR and TUN forward the packet unchanged: every real server and the sorry server listen on the VIP's port. */
function checkForwarding(service: Service, vip: Vip, realServerPort: number | undefined, report: Report): void {
  if (vip.lbKind !== 'DR' && vip.lbKind !== 'TUN') return;
  const unchanged = `lbKind ${vip.lbKind} forwards packets unchanged and cannot remap ports`;
  if (realServerPort !== undefined && realServerPort !== vip.port) {
    report(service.origin, ['spec', 'vip', 'port'], 'E_VIP_PORT_REMAP', `${unchanged}: vip port ${vip.port}, but port "${service.port}" of job ${service.job} is ${realServerPort}; use lbKind NAT, or vip port ${realServerPort}`);
  }
  if (vip.sorryServer && vip.sorryServer.port !== vip.port) {
    report(service.origin, ['spec', 'vip', 'sorryServer', 'port'], 'E_VIP_PORT_REMAP', `${unchanged}: the sorry server must listen on the vip port ${vip.port}, not ${vip.sorryServer.port}; use lbKind NAT, or port ${vip.port}`);
  }
}

/** LVS forwards within one address family: keepalived skips a real server of the other family. */
function checkFamilies(service: Service, vip: Vip, hosts: readonly Host[], report: Report): void {
  const family = parseIp(vip.address)?.family;
  if (family === undefined) return;
  const sorryFamily = vip.sorryServer && parseIp(vip.sorryServer.address)?.family;
  if (sorryFamily !== undefined && sorryFamily !== family) {
    report(service.origin, ['spec', 'vip', 'sorryServer', 'address'], 'E_VIP_FAMILY', `the sorry server ${vip.sorryServer!.address} is IPv${sorryFamily} but the vip is IPv${family}: LVS cannot forward across families`);
  }
  const others = hosts.filter((host) => parseIp(host.ip)?.family !== family);
  if (others.length === 0) return;
  const names = others.slice(0, MAX_NAMED_HOSTS).map((host) => `${host.name} (${host.ip})`).join(', ');
  const more = others.length > MAX_NAMED_HOSTS ? ` and ${others.length - MAX_NAMED_HOSTS} more` : '';
  report(service.origin, ['spec', 'vip', 'address'], 'E_VIP_FAMILY', `the vip is IPv${family} but host(s) ${names}${more} of job ${service.job} are not: LVS cannot forward across families, keepalived would leave them out`);
}
