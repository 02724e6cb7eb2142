// A Prometheus file_sd target file (JSON) made from naming and agents, so an existing Prometheus
// scrapes the whole fleet by tree node: one target group per live instance endpoint (the host IP and
// port naming registers), labelled with the job, its tree levels, host and idc; and one per agent's
// /metrics address, labelled with host and idc. Pure; the same data always gives the same bytes.
//
// Every group carries `__meta_ygg_target` ("instance" or "agent") for relabelling: a scrape config
// keeps one kind per scrape job (contrib/prometheus/prometheus.yml). Labels starting with `__` are
// dropped after relabelling, so they never reach a series. The file's first group has no targets
// and names the commit and etcd revision it was rendered from: file_sd JSON has no comments, and the
// render gate reads them back from the file on disk, as it reads keepalived.conf's header.
import { jobTreeLabels } from '../model/tag.js';
import { compareEndpoints, compareText } from './compare-endpoints.js';
import type { FileInventory } from './file-inventory.js';
import type { RenderData, RenderEndpoint, RenderHost } from './render-data.js';

export interface TargetGroup {
  readonly targets: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

export const COMMIT_LABEL = '__meta_ygg_commit';
export const REVISION_LABEL = '__meta_ygg_revision';
export const KIND_LABEL = '__meta_ygg_target';
export const SERVICES_LABEL = '__meta_ygg_services';
/** The group key of the agents in the inventory (instance groups are keyed by job name). */
export const AGENTS_GROUP = '_agents';

/** `ip:port`, an IPv6 address in brackets, as Prometheus targets are written. */
export function targetAddress(ip: string, port: number | string): string {
  return `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}

/** The IP of a `ip:port` target (brackets removed). */
export function targetIp(target: string): string {
  const colon = target.lastIndexOf(':');
  const ip = colon < 0 ? target : target.slice(0, colon);
  return ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
}

export function renderTargets(data: RenderData): string {
  return `${JSON.stringify(targetGroups(data), null, 2)}\n`;
}

export function targetGroups(data: RenderData): TargetGroup[] {
  const hosts = new Map((data.hosts ?? []).map((host) => [host.name, host]));
  const header: TargetGroup = { targets: [], labels: { [COMMIT_LABEL]: data.commit ?? 'unknown', [REVISION_LABEL]: data.revision } };
  // One group per address: two Services naming the same port are one process to scrape.
  const instances = new Map<string, { endpoint: RenderEndpoint; services: string[] }>();
  for (const service of data.services) {
    for (const endpoint of service.endpoints) {
      const address = targetAddress(endpoint.ip, endpoint.port);
      const known = instances.get(address);
      if (known) known.services.push(service.name);
      else instances.set(address, { endpoint, services: [service.name] });
    }
  }
  const instanceGroups = [...instances.values()]
    .sort((a, b) => compareText(a.endpoint.job, b.endpoint.job) || compareEndpoints(a.endpoint, b.endpoint))
    .map(({ endpoint, services }) => ({
      targets: [targetAddress(endpoint.ip, endpoint.port)],
      labels: sortedLabels({
        ...jobTreeLabels(endpoint.job, endpoint.tag),
        ...hostLabels(endpoint.host, hosts.get(endpoint.host)),
        [KIND_LABEL]: 'instance',
        [SERVICES_LABEL]: [...new Set(services)].sort(compareText).join(','),
      }),
    }));
  const agentGroups = (data.hosts ?? []).flatMap((host) => {
    const target = agentTarget(host);
    return target === undefined ? [] : [{ targets: [target], labels: sortedLabels({ ...hostLabels(host.name, host), [KIND_LABEL]: 'agent' }) }];
  });
  return [header, ...instanceGroups, ...agentGroups];
}

/**
 * The agent's published metrics address, with an unspecified host (it listens on every address)
 * replaced by the Host's ip: the address the fleet knows the host by.
 */
function agentTarget(host: RenderHost): string | undefined {
  if (host.metricsAddress === undefined) return undefined;
  const ip = targetIp(host.metricsAddress);
  const port = host.metricsAddress.slice(host.metricsAddress.lastIndexOf(':') + 1);
  if (!/^\d+$/.test(port) || ip === '') return undefined;
  if (ip !== '0.0.0.0' && ip !== '::') return host.metricsAddress;
  return host.ip === '' ? undefined : targetAddress(host.ip, port);
}

function hostLabels(name: string, host: RenderHost | undefined): Record<string, string> {
  const idc = host?.labels.idc;
  return { host: name, ...(idc !== undefined && idc !== '' && { idc }) };
}

function sortedLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => compareText(a, b)));
}

/**
 * The file read back for the render gate: groups are jobs (and the agents), members their targets.
 * A file that is not a target file this renderer wrote serves nothing it could lose.
 */
export function targetsInventory(text: string): FileInventory {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { groups: new Map() };
  }
  if (!Array.isArray(parsed)) return { groups: new Map() };
  const groups = new Map<string, Set<string>>();
  let header: { commit?: string; revision?: string } = {};
  for (const entry of parsed as Partial<TargetGroup>[]) {
    const labels = entry?.labels ?? {};
    const targets = Array.isArray(entry?.targets) ? entry.targets.filter((target): target is string => typeof target === 'string') : [];
    if (targets.length === 0) {
      const commit = labels[COMMIT_LABEL];
      const revision = labels[REVISION_LABEL];
      if (revision !== undefined && /^\d+$/.test(revision)) header = { ...(commit !== undefined && commit !== 'unknown' && { commit }), revision };
      continue;
    }
    const key = labels[KIND_LABEL] === 'agent' ? AGENTS_GROUP : (labels.job ?? '');
    const members = groups.get(key) ?? new Set<string>();
    for (const target of targets) members.add(target);
    groups.set(key, members);
  }
  return { ...header, groups };
}
