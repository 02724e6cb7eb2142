// Makes etcd's users and roles match an access plan, touching only what differs: a re-run after hosts
// were added or removed creates and revokes exactly those, and a re-run with nothing changed writes
// nothing. Needs a root client (etcd-root.ts). Roles and users not named `ygg-…` are left alone.
import { EtcdAuthenticationFailedError, Range, type Etcd3 } from 'etcd3';
import PQueue from 'p-queue';
import type { KeyLayout } from '../store/keys.js';
import { MANAGED_PREFIX, principalHost, type AccessPlan, type KeyGrant, type PermissionType, type RolePlan, type UserPlan } from './access-plan.js';
import { generatePassword, type CredentialDirectory, type EtcdCredential } from './credential-files.js';
import { deleteRevokedNaming, revokeHostLeases } from './revoke-host.js';

export interface AccessChanges {
  readonly rolesCreated: string[];
  readonly rolesDeleted: string[];
  readonly grantsAdded: number;
  readonly grantsRevoked: number;
  readonly usersCreated: string[];
  readonly usersDeleted: string[];
  /** Users whose password was set because their credential file was missing or not theirs. */
  readonly passwordsSet: string[];
  /** Naming entries deleted because their host may no longer write them. */
  readonly namingDeleted: number;
  /** Leases of revoked hosts' agents, revoked so their heartbeat and endpoints vanish now. */
  readonly leasesRevoked: number;
}

export interface ApplyAccessOptions {
  readonly client: Etcd3;
  readonly plan: AccessPlan;
  readonly layout: KeyLayout;
  readonly credentials: CredentialDirectory;
  /** Requests in flight at once (default 16): etcd hashes each new password with bcrypt. */
  readonly concurrency?: number;
  /** Revoke however many hosts the plan drops (default: refuse more than MAX_REVOKED_PERCENT of them at once). */
  readonly allowMassRevocation?: boolean;
  /**
   * Hosts whose access may only grow for now: each still runs or is removing a job the plan no
   * longer places there (§3a: a host is cut off only once its jobs are gone). Their users and roles
   * stay, even when the plan drops them, and keep every grant they have.
   */
  readonly retainHosts?: ReadonlySet<string>;
  /**
   * Log in with each kept credential file and give a new password to a user whose file no longer
   * matches (edited by hand, or restored from an old backup). One bcrypt check in etcd per user:
   * etcd-setup does it, the controller (which wrote the files itself) does not.
   */
  readonly verifyPasswords?: boolean;
}

/**
 * A revoked host loses its lease, so its heartbeat and endpoints go at once: a setup run against an
 * old --ref or the wrong --repo would take most of the fleet out of naming. Like the prune guard and
 * the render gate, more than this share of the hosts at once needs saying so.
 */
export const MAX_REVOKED_PERCENT = 10;

export class MassRevocationError extends Error {
  readonly code = 'E_MASS_REVOCATION';
  constructor(readonly hosts: readonly string[], readonly known: number) {
    super(`the repo drops ${hosts.length} of ${known} hosts (${hosts.slice(0, 5).join(', ')}${hosts.length > 5 ? ', …' : ''}): more than ${MAX_REVOKED_PERCENT}% at once, nothing changed; check --repo/--ref, or pass --allow-mass-revocation`);
    this.name = 'MassRevocationError';
  }
}

const DEFAULT_CONCURRENCY = 16;

export async function applyAccess(options: ApplyAccessOptions): Promise<AccessChanges> {
  const { client, plan } = options;
  const changes = {
    rolesCreated: [] as string[],
    rolesDeleted: [] as string[],
    grantsAdded: 0,
    grantsRevoked: 0,
    usersCreated: [] as string[],
    usersDeleted: [] as string[],
    passwordsSet: [] as string[],
    namingDeleted: 0,
    leasesRevoked: 0,
  };
  const managed = (name: string) => name.startsWith(MANAGED_PREFIX);
  const [roleNames, userNames] = await Promise.all([
    client.getRoles().then((roles) => new Set(roles.map((role) => role.name).filter(managed))),
    client.getUsers().then((users) => new Set(users.map((user) => user.name).filter(managed))),
  ]);
  const retained = (name: string) => options.retainHosts?.has(principalHost(name) ?? '') === true;
  const plannedUsers = new Set(plan.users.map((user) => user.name));
  const revokedUsers = [...userNames].filter((name) => !plannedUsers.has(name) && !retained(name)).sort();
  const revokedHosts = revokedUsers.flatMap((name) => principalHost(name) ?? []);
  const knownHosts = [...userNames].filter((name) => principalHost(name) !== undefined).length;
  if (!options.allowMassRevocation && revokedHosts.length > Math.max(1, (knownHosts * MAX_REVOKED_PERCENT) / 100)) throw new MassRevocationError(revokedHosts, knownHosts);
  const queue = new PQueue({ concurrency: options.concurrency ?? DEFAULT_CONCURRENCY });
  const run = (tasks: (() => Promise<void>)[]) => queue.addAll(tasks);

  // Roles before users (a user is granted existing roles); revocations last, users before roles.
  await run(plan.roles.map((role) => () => syncRole(options, role, roleNames.has(role.name), changes)));
  await run(plan.users.map((user) => () => syncUser(options, user, userNames.has(user.name), changes)));

  const plannedRoles = new Set(plan.roles.map((role) => role.name));
  await run(revokedUsers.map((name) => async () => {
    await client.user(name).delete();
    changes.usersDeleted.push(name);
  }));
  changes.leasesRevoked = await revokeHostLeases(client, options.layout, revokedHosts);
  await run(revokedHosts.map((host) => () => options.credentials.remove(host)));
  const revokedRoles = [...roleNames].filter((name) => !plannedRoles.has(name) && !retained(name)).sort();
  await run(revokedRoles.map((name) => async () => {
    await client.role(name).delete();
    changes.rolesDeleted.push(name);
  }));
  for (const list of [changes.rolesCreated, changes.usersCreated, changes.passwordsSet]) list.sort();
  return changes;
}

type MutableChanges = { -readonly [K in keyof AccessChanges]: AccessChanges[K] };

/** A permission as etcd stores it: start key and range end (empty for one key). */
interface StoredGrant {
  readonly permission: PermissionType;
  readonly start: string;
  readonly end: string;
}

function toRange(grant: KeyGrant): Range {
  return grant.prefix ? Range.prefix(grant.key) : new Range(grant.key);
}

const rangeId = (start: string, end: string) => `${start}\u0000${end}`;

async function syncRole(options: ApplyAccessOptions, plan: RolePlan, exists: boolean, changes: MutableChanges): Promise<void> {
  const role = options.client.role(plan.name);
  if (!exists) {
    await role.create();
    changes.rolesCreated.push(plan.name);
  }
  const stored: StoredGrant[] = exists
    ? (await role.permissions()).map((grant) => ({ permission: grant.permission as PermissionType, start: grant.range.start.toString(), end: grant.range.end.toString() }))
    : [];
  const storedById = new Map(stored.map((grant) => [rangeId(grant.start, grant.end), grant]));
  const wanted = new Set<string>();
  for (const grant of plan.grants) {
    const range = toRange(grant);
    const id = rangeId(range.start.toString(), range.end.toString());
    wanted.add(id);
    // granting a range again with another permission replaces it
    if (storedById.get(id)?.permission === grant.permission) continue;
    await role.grant({ permission: grant.permission, range });
    changes.grantsAdded++;
  }
  if (options.retainHosts?.has(principalHost(plan.name) ?? '')) return;
  for (const grant of stored) {
    if (wanted.has(rangeId(grant.start, grant.end))) continue;
    // etcd3's revoke() of an array grants instead: one call per range
    await role.revoke({ permission: grant.permission, range: new Range(grant.start, grant.end) });
    changes.grantsRevoked++;
    // Left in place, an entry the agent may no longer write would also block every write under
    // its lease (etcd refuses to attach a lease to keys the user cannot revoke).
    const deleted = await deleteRevokedNaming(options.client, options.layout, grant.start, grant.end);
    changes.namingDeleted += deleted; // not `+= await`: that reads the sum before other roles' deletions land
  }
}

async function syncUser(options: ApplyAccessOptions, plan: UserPlan, exists: boolean, changes: MutableChanges): Promise<void> {
  const { client, credentials } = options;
  const user = client.user(plan.name);
  const saved = await credentials.read(plan.file);
  const usable = saved?.user === plan.name && (!exists || !options.verifyPasswords || (await logsIn(client, saved))) ? saved : undefined;
  // An existing user's password cannot be read back: a file that is missing, names another user or
  // does not log in gets a new password, and the old one stops working.
  const credential = usable ?? { user: plan.name, password: generatePassword() };
  if (!exists) {
    await user.create(credential.password);
    changes.usersCreated.push(plan.name);
  } else if (!usable) {
    await user.setPassword(credential.password);
    changes.passwordsSet.push(plan.name);
  }
  if (!usable) await credentials.write(plan.file, credential);
  const current = exists ? (await user.roles()).map((role) => role.name) : [];
  for (const role of plan.roles) if (!current.includes(role)) await user.addRole(role);
  for (const role of current) if (!plan.roles.includes(role)) await user.removeRole(role);
}

async function logsIn(client: Etcd3, credential: EtcdCredential): Promise<boolean> {
  try {
    await client.auth.authenticate({ name: credential.user, password: credential.password });
    return true;
  } catch (error) {
    if (error instanceof EtcdAuthenticationFailedError) return false;
    throw error;
  }
}
