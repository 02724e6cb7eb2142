// Who may read which secret (issue 12): a host reads exactly the secrets its jobs reference — every
// job of a tree node binding the host, as naming grants go, so a replica moving there needs no new
// grant — each on its exact key; the controller reads only versions/ (it never needs a value);
// read-only users and directors get nothing, since secrets live outside the fleet prefix.
import type { FleetIndex } from '../model/fleet-index.js';
import { jobSecrets } from '../model/secret-references.js';
import type { Model } from '../model/types.js';
import type { SecretKeys } from '../store/secret-store.js';
import type { KeyGrant } from './access-plan.js';

/** Host → a Read grant on the value key of each secret its tree nodes' jobs reference. */
export function secretGrantsByHost(model: Model, index: FleetIndex, keys: SecretKeys): Map<string, KeyGrant[]> {
  const namesByHost = new Map<string, Set<string>>();
  for (const job of model.jobs.values()) {
    const secrets = jobSecrets(job.spec);
    const node = secrets.length > 0 ? index.jobNode(job) : undefined;
    if (!node) continue;
    for (const host of index.nodeHosts(node)) {
      const names = namesByHost.get(host.name) ?? new Set<string>();
      for (const secret of secrets) names.add(secret);
      namesByHost.set(host.name, names);
    }
  }
  return new Map([...namesByHost].map(([host, names]) => [host, [...names].sort().map((name): KeyGrant => ({ permission: 'Read', key: keys.value(name), prefix: false }))]));
}

/** The controller learns versions to hash them into specs: a read of versions/, no value. */
export function controllerSecretGrant(keys: SecretKeys): KeyGrant {
  return { permission: 'Read', key: keys.versions, prefix: true };
}
