// hosts/<host>: the Host documents of the commit in force, so agents can tell whether their --host
// exists and renderers which directors do. Written only when a host's facts change (not on every
// commit: the commit a record names is the one that last changed it).
import type { Model } from '../model/types.js';
import { canonicalJson } from '../plan/canonical-json.js';
import type { KeyLayout } from '../store/keys.js';
import type { HostRecord } from '../store/records.js';
import type { AuditAction, StoreOp } from './reconcile-fleet.js';

export interface HostRegistryWrites {
  readonly ops: StoreOp[];
  readonly opActions: AuditAction[][];
}

/** The Host objects of a model already found to match etcd: a settled fleet compares nothing. */
const matching = new WeakMap<object, HostRecord>();

export function syncHosts(model: Model, commit: string, observed: ReadonlyMap<string, HostRecord>, layout: KeyLayout): HostRegistryWrites {
  const writes: HostRegistryWrites = { ops: [], opActions: [] };
  for (const host of model.hosts.values()) {
    const existing = observed.get(host.name);
    if (existing && matching.get(host) === existing) continue;
    const record: HostRecord = { name: host.name, ip: host.ip, labels: host.labels, state: host.state, commit };
    if (existing && canonicalJson({ ...existing, commit }) === canonicalJson(record)) {
      matching.set(host, existing);
      continue;
    }
    writes.ops.push({ put: layout.host(host.name), value: record });
    writes.opActions.push([{ type: 'host.put', host: host.name }]);
  }
  for (const name of observed.keys()) {
    if (model.hosts.has(name)) continue;
    writes.ops.push({ delete: layout.host(name) });
    writes.opActions.push([{ type: 'host.delete', host: name }]);
  }
  return writes;
}
