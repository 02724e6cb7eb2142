// zones/<origin>: the Zone documents of the commit in force, resolved against its services (globs
// expanded, defaults filled), so a DNS renderer needs nothing but etcd. Written like hosts/<host>:
// only when a zone's content changes, and deleted when its document leaves the repo.
import type { Model } from '../model/types.js';
import { resolveZone } from '../model/zone-records.js';
import { canonicalJson } from '../plan/canonical-json.js';
import type { KeyLayout } from '../store/keys.js';
import type { ZoneRecord } from '../store/records.js';
import type { HostRegistryWrites } from './sync-hosts.js';

export function syncZones(model: Model, commit: string, observed: ReadonlyMap<string, ZoneRecord>, layout: KeyLayout): HostRegistryWrites {
  const writes: HostRegistryWrites = { ops: [], opActions: [] };
  const serviceNames = [...model.services.keys()];
  for (const zone of model.zones.values()) {
    const record: ZoneRecord = { ...resolveZone(zone, serviceNames).resolved, commit };
    const existing = observed.get(zone.name);
    if (existing && canonicalJson({ ...existing, commit }) === canonicalJson(record)) continue;
    writes.ops.push({ put: layout.zone(zone.name), value: record });
    writes.opActions.push([{ type: 'zone.put', zone: zone.name }]);
  }
  for (const name of observed.keys()) {
    if (model.zones.has(name)) continue;
    writes.ops.push({ delete: layout.zone(name) });
    writes.opActions.push([{ type: 'zone.delete', zone: name }]);
  }
  return writes;
}
