// The checks a real server must pass to reach a rendered file, shared by the strict validator
// (renderConfig refuses the whole input) and by usableEndpoints, which leaves one bad naming entry
// out and reports it: an agent's bad value must never keep every other endpoint from rendering.
import type { Vip } from '../model/types.js';
import type { RenderData, RenderEndpoint, SkippedInput } from './render-data.js';
import { checkInteger, checkIp, checkPort, ipFamily } from './render-values.js';

export interface ServerProblem {
  readonly field: 'ip' | 'port' | 'weight';
  readonly message: string;
}

/** Problems of a real or sorry server `ip:port` behind `vip` (if any). */
export function serverProblems(vip: Vip | undefined, ip: unknown, port: unknown): ServerProblem[] {
  const problems: ServerProblem[] = [];
  const add = (field: ServerProblem['field'], message: string | undefined): void => {
    if (message !== undefined) problems.push({ field, message });
  };
  add('ip', checkIp(ip));
  add('port', checkPort(port));
  if (vip === undefined) return problems;
  const family = ipFamily(vip.address);
  if (family !== undefined && ipFamily(ip) !== undefined && ipFamily(ip) !== family) add('ip', `IPv${ipFamily(ip)} server behind an IPv${family} VIP (keepalived skips it)`);
  // DR and TUN forward the packet unchanged: the real server must listen on the VIP's port, and
  // keepalived -t rejects (exit 5) a real or sorry server on another port.
  if ((vip.lbKind === 'DR' || vip.lbKind === 'TUN') && checkPort(port) === undefined && port !== vip.port) {
    add('port', `lb_kind ${vip.lbKind} cannot remap port ${vip.port} to ${String(port)}`);
  }
  return problems;
}

/** Problems of one live endpoint of a service: its address and its weight. */
export function endpointProblems(vip: Vip | undefined, endpoint: RenderEndpoint): ServerProblem[] {
  const problems = serverProblems(vip, endpoint.ip, endpoint.port);
  const weight = checkInteger(endpoint.weight, 0, 65_535);
  return weight === undefined ? problems : [...problems, { field: 'weight', message: weight }];
}

/** `data` without the endpoints that could not be rendered; each one left out is in `skipped`. */
export function usableEndpoints(data: RenderData): RenderData {
  const skipped: SkippedInput[] = [...(data.skipped ?? [])];
  const services = data.services.map((service) => {
    const endpoints = service.endpoints.filter((endpoint) => {
      const problems = endpointProblems(service.vip, endpoint);
      if (problems.length === 0) return true;
      const problem = problems.map(({ field, message }) => `${field}: ${message}`).join('; ');
      skipped.push({ key: `naming/${service.name}/${String(endpoint.host)}:${String(endpoint.port)}`, problem });
      return false;
    });
    return endpoints.length === service.endpoints.length ? service : { ...service, endpoints };
  });
  return { ...data, services, ...(skipped.length > 0 && { skipped }) };
}
