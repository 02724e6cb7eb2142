// What revoking access leaves behind in etcd, cleaned up by root. etcd keeps a lease alive for a
// deleted user (keep-alives carry no permission check), so a revoked host's heartbeat and endpoints
// would outlive its credential: its leases are revoked. And an entry a host may no longer write is
// deleted, because etcd also refuses every later write under the lease it is attached to.
import { EtcdLeaseInvalidError, Range, type Etcd3 } from 'etcd3';
import { keySegments, type KeyLayout } from '../store/keys.js';
import { ignore } from './etcd-root.js';

/** Revokes every lease holding `agents/<host>` or a naming entry of one of `hosts`; returns how many. */
export async function revokeHostLeases(client: Etcd3, layout: KeyLayout, hosts: readonly string[]): Promise<number> {
  if (hosts.length === 0) return 0;
  const revoked = new Set(hosts);
  const leases = new Set<string>();
  // keys_only still returns each key's lease
  const keysUnder = async (prefix: string) => (await client.kv.range({ key: Buffer.from(prefix), range_end: Range.prefix(prefix).end, keys_only: true })).kvs;
  for (const kv of await keysUnder(layout.agents)) {
    if (revoked.has(keySegments(kv.key.toString(), layout.agents)[0]!)) leases.add(String(kv.lease));
  }
  for (const kv of await keysUnder(layout.namings())) {
    const endpoint = keySegments(kv.key.toString(), layout.namings())[1] ?? '';
    if (revoked.has(endpoint.slice(0, endpoint.lastIndexOf(':')))) leases.add(String(kv.lease));
  }
  leases.delete('0');
  for (const lease of leases) await client.leaseClient.leaseRevoke({ ID: lease }).catch(ignore(EtcdLeaseInvalidError));
  return leases.size;
}

/** Deletes the naming entries in a revoked grant's range; other ranges are not entries to clean up. */
export async function deleteRevokedNaming(client: Etcd3, layout: KeyLayout, start: string, end: string): Promise<number> {
  if (!start.startsWith(layout.namings()) || start === layout.namings()) return 0;
  const result = await client.delete().range(new Range(start, end)).exec();
  return Number(result.deleted);
}
