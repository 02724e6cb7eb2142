// The key prefix etcd-setup granted the controller the last time it ran, read back from etcd: a run
// with another --etcd-prefix (a typo) would move every grant to keys nobody uses, and the fleet
// would keep running but could no longer change anything.
import type { Etcd3 } from 'etcd3';
import { CONTROLLER_ROLE } from './access-plan.js';

/**
 * The start of the controller role's read-write grant (the fleet prefix; its other grant, a read of
 * secret versions, is beside it), or undefined when etcd-setup never ran here.
 */
export async function grantedPrefix(client: Etcd3): Promise<string | undefined> {
  const roles = await client.getRoles();
  if (!roles.some((role) => role.name === CONTROLLER_ROLE)) return undefined;
  const grants = await client.role(CONTROLLER_ROLE).permissions();
  return grants.find((grant) => grant.permission === 'Readwrite')?.range.start.toString();
}
