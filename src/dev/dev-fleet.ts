// What a dev run starts for a fleet, read from its model: one agent per Host (directors with the
// director role), and the renderers that are not part of an agent. Pure: the Host documents are
// the truth, nothing is mapped or invented here.
import { isLoopback } from '../repo/check-addresses.js';
import type { Model } from '../model/types.js';
import type { DevLayout } from './dev-layout.js';

export interface DevAgent {
  readonly host: string;
  readonly ip: string;
  /** Set on a director: the keepalived.conf its agent keeps rendered. */
  readonly keepalivedConf?: string;
}

/** A `ygg render …` process: its name (for logs) and arguments after `ygg`. */
export interface DevRenderer {
  readonly name: string;
  readonly args: readonly string[];
  /** The file it keeps rendered. */
  readonly target: string;
}

export interface DevFleet {
  readonly agents: readonly DevAgent[];
  readonly renderers: readonly DevRenderer[];
  /** Every keepalived.conf the run keeps rendered, by director. */
  readonly keepalivedConfs: ReadonlyMap<string, string>;
  /** Hosts whose ip this machine does not have: their jobs cannot bind it here. */
  readonly unreachableHosts: readonly { readonly host: string; readonly ip: string }[];
}

export function directorsOf(model: Model): string[] {
  return [...new Set([...model.services.values()].flatMap((service) => service.directors))].sort();
}

export function devFleet(model: Model, layout: DevLayout): DevFleet {
  const directors = directorsOf(model);
  const hosts = [...model.hosts.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  const agents = hosts.map((host): DevAgent => ({
    host: host.name,
    ip: host.ip,
    ...(directors.includes(host.name) ? { keepalivedConf: layout.keepalivedConf(host.name) } : {}),
  }));
  const renderers: DevRenderer[] = [
    // A director that is no Host has no agent to carry the role: a renderer of its own renders it.
    ...directors
      .filter((director) => !model.hosts.has(director))
      .map((director) => ({
        name: `render-keepalived-${director}`,
        args: ['render', 'keepalived', '--director', director, '--out', layout.keepalivedConf(director)],
        target: layout.keepalivedConf(director),
      })),
    // Each Zone document's zone file, checked with named-checkzone, as a DNS server would load it.
    ...[...model.zones.keys()].sort().map((origin) => ({
      name: `render-dns-${origin}`,
      args: ['render', 'dns', '--zone', origin, '--out', layout.zoneFile(origin)],
      target: layout.zoneFile(origin),
    })),
    // The fleet's scrape targets, for a Prometheus pointed at contrib/prometheus/prometheus.yml.
    { name: 'render-prometheus', args: ['render', 'prometheus', '--out', layout.prometheusTargets], target: layout.prometheusTargets },
  ];
  return {
    agents,
    renderers,
    keepalivedConfs: new Map(directors.map((director) => [director, layout.keepalivedConf(director)])),
    unreachableHosts: hosts.filter((host) => !isLoopback(host.ip)).map((host) => ({ host: host.name, ip: host.ip })),
  };
}
