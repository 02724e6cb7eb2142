// Zone documents against the services of their commit: what each publish entry names (unknown
// services, globs matching nothing, two services under one name), the record names a renderer would
// write (checked as the renderer checks them, so a bad name fails here and never holds a zone), and
// the name servers (one inside the zone needs its addresses, or the zone does not load).
import { nameInZone, resolveZone } from '../model/zone-records.js';
import type { Model, Zone } from '../model/types.js';
import { checkName } from '../render/render-values.js';
import { closestMatch } from '../util/closest-match.js';
import { unusableAddress } from './check-addresses.js';
import type { Report } from './finding.js';

export function checkZones(model: Model, report: Report): void {
  const serviceNames = [...model.services.keys()];
  for (const zone of model.zones.values()) {
    const { problems, resolved, sources } = resolveZone(zone, serviceNames);
    for (const problem of problems) {
      const hint = problem.code === 'E_ZONE_SERVICE' ? suggestion(zone.publish[problem.entry]!.service, serviceNames) : '';
      report(zone.origin, ['spec', 'publish', problem.entry, problem.field], problem.code, problem.message + hint, problem.code.startsWith('W_') ? 'warning' : 'error');
    }
    for (const record of resolved.records) {
      const problem = checkName(`${record.name}.${zone.name}`);
      if (problem === undefined) continue;
      const entry = sources.get(record.name)!;
      const field = zone.publish[entry]!.name === undefined ? 'service' : 'name';
      report(zone.origin, ['spec', 'publish', entry, field], 'E_ZONE_NAME', `record name "${record.name}" (service ${record.service}): ${problem.replace(/^"[^"]*" /, '')} in zone ${zone.name}`);
    }
    checkNameServers(zone, report);
  }
}

function suggestion(service: string, serviceNames: readonly string[]): string {
  const closest = closestMatch(service, serviceNames);
  return closest ? `; did you mean "${closest}"?` : '';
}

function checkNameServers(zone: Zone, report: Report): void {
  const seen = new Set<string>();
  zone.nameServers.forEach((server, index) => {
    const path = ['spec', 'nameServers', index];
    if (seen.has(server.name)) report(zone.origin, [...path, 'name'], 'E_DUPLICATE', `duplicate name server "${server.name}"`);
    seen.add(server.name);
    const inside = nameInZone(server.name, zone.name) !== undefined;
    if (inside && server.addresses.length === 0) {
      report(zone.origin, [...path, 'name'], 'E_ZONE_NS_ADDRESS', `name server ${server.name} lies inside zone ${zone.name} but has no addresses: resolvers could not reach it (named-checkzone: "has no address records"); add addresses: [IP]`);
    }
    if (!inside && server.addresses.length > 0) {
      report(zone.origin, [...path, 'addresses'], 'W_ZONE_NS_GLUE', `name server ${server.name} lies outside zone ${zone.name}: its addresses are not written (they belong in its own zone)`, 'warning');
    }
    server.addresses.forEach((address, position) => {
      const problem = unusableAddress(address);
      if (problem) report(zone.origin, [...path, 'addresses', position], 'E_ADDRESS', `name server address ${address} ${problem}: resolvers cannot reach it there`);
    });
  });
}
