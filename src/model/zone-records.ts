// A Zone document resolved against the services of its commit: globs expanded, record names
// derived, defaults filled. The checker reports what resolving finds, the controller publishes the
// result (zones/<origin>), and `ygg plan` renders it; all three resolve the same way. Pure.
import type { Zone, ZoneNameServer } from './types.js';

/** One published name: `name` (relative to the origin) answers with the service's addresses. */
export interface ZoneEntry {
  readonly name: string;
  readonly service: string;
}

/** What a renderer needs of a zone, with nothing left to look up in the repo. */
export interface ResolvedZone {
  readonly zone: string;
  readonly ttlSeconds: number;
  readonly soa: { readonly hostmaster: string; readonly refreshSeconds: number; readonly retrySeconds: number; readonly expireSeconds: number; readonly negativeTtlSeconds: number };
  readonly nameServers: readonly ZoneNameServer[];
  /** Sorted by name; one entry per name. */
  readonly records: readonly ZoneEntry[];
}

export interface ZoneProblem {
  /** The index of the publish entry at fault. */
  readonly entry: number;
  readonly field: 'service' | 'name';
  readonly code: 'E_ZONE_PATTERN' | 'E_ZONE_SERVICE' | 'W_ZONE_SERVICE' | 'E_ZONE_RECORD_CLASH';
  readonly message: string;
}

const GLOB = '*';

/** The relative name of `fqdn` inside `zone` ('@' for the apex), or undefined when it lies outside. */
export function nameInZone(fqdn: string, zone: string): string | undefined {
  if (fqdn === zone) return '@';
  return fqdn.endsWith(`.${zone}`) ? fqdn.slice(0, -zone.length - 1) : undefined;
}

/** What a glob's one `*` matched in `name`, or undefined when it does not match. */
function globMatch(pattern: string, name: string): string | undefined {
  const star = pattern.indexOf(GLOB);
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  if (name.length <= prefix.length + suffix.length || !name.startsWith(prefix) || !name.endsWith(suffix)) return undefined;
  return name.slice(prefix.length, name.length - suffix.length);
}

const stars = (text: string): number => text.split(GLOB).length - 1;

export interface ZoneResolution {
  readonly resolved: ResolvedZone;
  readonly problems: readonly ZoneProblem[];
  /** Record name → the index of the publish entry it comes from, for locating problems with it. */
  readonly sources: ReadonlyMap<string, number>;
}

export function resolveZone(zone: Zone, serviceNames: readonly string[]): ZoneResolution {
  const problems: ZoneProblem[] = [];
  const byName = new Map<string, { service: string; entry: number }>();
  const known = new Set(serviceNames);
  const sortedServices = [...serviceNames].sort();
  // A name server's own address records live at its name: a service there would mix them.
  const nameServerNames = new Set(zone.nameServers.flatMap((server) => nameInZone(server.name, zone.name) ?? []));
  zone.publish.forEach((publish, entry) => {
    const problem = (field: ZoneProblem['field'], code: ZoneProblem['code'], message: string) => problems.push({ entry, field, code, message });
    const globs = stars(publish.service);
    if (globs > 1) return problem('service', 'E_ZONE_PATTERN', `service pattern "${publish.service}" has ${globs} "*": at most one`);
    if (publish.name !== undefined && stars(publish.name) > globs) {
      return problem('name', 'E_ZONE_PATTERN', globs === 0 ? `record name "${publish.name}" has a "*" but service "${publish.service}" is no glob to fill it` : `record name "${publish.name}" has more than one "*"`);
    }
    let matches: { service: string; name: string }[];
    if (globs === 0) {
      if (!known.has(publish.service)) return problem('service', 'E_ZONE_SERVICE', `unknown service "${publish.service}" (no Service document has that name)`);
      matches = [{ service: publish.service, name: publish.name ?? publish.service }];
    } else {
      matches = sortedServices.flatMap((service) => {
        const matched = globMatch(publish.service, service);
        return matched === undefined ? [] : [{ service, name: publish.name === undefined ? service : publish.name.replace(GLOB, matched) }];
      });
      if (matches.length === 0) return problem('service', 'W_ZONE_SERVICE', `service pattern "${publish.service}" matches no service: it publishes nothing`);
    }
    for (const { service, name } of matches) {
      const taken = byName.get(name);
      if (nameServerNames.has(name)) problem('name', 'E_ZONE_RECORD_CLASH', `record name "${name}" (service ${service}) is the name of a name server of the zone`);
      else if (taken && taken.service !== service) problem('name', 'E_ZONE_RECORD_CLASH', `record name "${name}" would publish both ${taken.service} (publish[${taken.entry}]) and ${service}: a name publishes one service`);
      else if (!taken) byName.set(name, { service, entry });
    }
  });
  const records = [...byName].map(([name, { service }]) => ({ name, service })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const { hostmaster, ...timers } = zone.soa;
  return {
    resolved: { zone: zone.name, ttlSeconds: zone.ttlSeconds, soa: { hostmaster: hostmaster ?? `hostmaster.${zone.name}`, ...timers }, nameServers: zone.nameServers, records },
    problems,
    sources: new Map([...byName].map(([name, { entry }]) => [name, entry])),
  };
}
