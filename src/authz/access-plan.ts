// Who may touch which etcd keys (issue 12): the roles and users `ygg etcd-setup` keeps in etcd,
// derived from one commit's model. Pure: the same model and prefix give the same plan.
//
// Naming entries are laid out `naming/<service>/<host>:<port>`, so one service's hosts share the
// prefix `naming/<service>/`. The layout stays (readers list a service with one prefix read); a host
// is granted `naming/<service>/<host>:` instead — exactly its own entries, since host names hold no
// `:` — for every service whose job may run on it: every host of the job's tree node, not only the
// hosts placed today, so moving replicas off a lost host needs no new grant; the grants change only
// with a commit that changes tree nodes, jobs or services.
import type { FleetIndex } from '../model/fleet-index.js';
import type { Model } from '../model/types.js';
import { renderRanges } from '../render/render-ranges.js';
import { keyLayout, RENDERER_STATUS_NAME, type KeyLayout } from '../store/keys.js';
import { secretKeys } from '../store/secret-store.js';
import { controllerSecretGrant, secretGrantsByHost } from './secret-grants.js';

export type PermissionType = 'Read' | 'Write' | 'Readwrite';

/** One permission on one key, or on every key under a prefix. */
export interface KeyGrant {
  readonly permission: PermissionType;
  readonly key: string;
  readonly prefix: boolean;
}

export interface RolePlan {
  readonly name: string;
  /** Sorted by key, one grant per key/prefix. */
  readonly grants: readonly KeyGrant[];
}

export interface UserPlan {
  readonly name: string;
  /** Where its credential file goes in the --out directory. */
  readonly file: string;
  /** Sorted. */
  readonly roles: readonly string[];
  /** Set for a host's agent: what to clean up when the host is revoked. */
  readonly host?: string;
}

export interface AccessPlan {
  readonly roles: readonly RolePlan[];
  readonly users: readonly UserPlan[];
}

/** Every role and user etcd-setup manages starts with this; others (root, a human's) are left alone. */
export const MANAGED_PREFIX = 'ygg-';
export const CONTROLLER_ROLE = 'ygg-controller';
export const READONLY_ROLE = 'ygg-readonly';
/** What a renderer reads: what a director's file, a zone or the targets are made from, not assign/. */
export const DIRECTOR_ROLE = 'ygg-director';
/** The user of renderers that are no host's agent (`ygg render …`): reads as a director, writes the render status of directors that are no Host. */
export const RENDERER_USER = 'ygg-renderer';
const HOST_PREFIX = 'ygg-host-';
/** Credential files of the two fleet-wide users; `_` never appears in a host name, so no host's file can collide. */
export const CONTROLLER_FILE = '_controller';
export const READONLY_FILE = '_readonly';
export const RENDERER_FILE = '_renderer';

/** The user and role of a host's agent. */
export function hostPrincipal(host: string): string {
  return HOST_PREFIX + host;
}

/** The host a managed user or role name stands for, if it is a host's. */
export function principalHost(name: string): string | undefined {
  return name.startsWith(HOST_PREFIX) ? name.slice(HOST_PREFIX.length) : undefined;
}

export function planAccess(model: Model, index: FleetIndex, prefix: string): AccessPlan {
  const layout = keyLayout(prefix);
  const namingServices = servicesByHost(model, index);
  const directors = new Set([...model.services.values()].flatMap((service) => service.directors));
  const secrets = secretKeys(prefix);
  const secretGrants = secretGrantsByHost(model, index, secrets);
  const hostlessDirectors = [...directors].filter((director) => !model.hosts.has(director)).sort();
  const roles: RolePlan[] = [
    { name: CONTROLLER_ROLE, grants: sortGrants([{ permission: 'Readwrite', key: layout.prefix, prefix: true }, controllerSecretGrant(secrets)]) },
    { name: READONLY_ROLE, grants: [{ permission: 'Read', key: layout.prefix, prefix: true }] },
    { name: DIRECTOR_ROLE, grants: directorGrants(layout) },
    { name: RENDERER_USER, grants: sortGrants(hostlessDirectors.map((director) => ({ permission: 'Readwrite', key: layout.status(director, RENDERER_STATUS_NAME), prefix: false }))) },
  ];
  const users: UserPlan[] = [
    { name: CONTROLLER_ROLE, file: CONTROLLER_FILE, roles: [CONTROLLER_ROLE] },
    { name: READONLY_ROLE, file: READONLY_FILE, roles: [READONLY_ROLE] },
    { name: RENDERER_USER, file: RENDERER_FILE, roles: [DIRECTOR_ROLE, RENDERER_USER] },
  ];
  for (const host of [...model.hosts.keys()].sort()) {
    const name = hostPrincipal(host);
    roles.push({ name, grants: sortGrants([...hostGrants(layout, host, namingServices.get(host) ?? []), ...(secretGrants.get(host) ?? [])]) });
    // A director's agent renders its keepalived.conf; its render status (status/<director>/_render)
    // is under its own status/.
    users.push({ name, file: host, roles: directors.has(host) ? [DIRECTOR_ROLE, name].sort() : [name], host });
  }
  return { roles, users };
}

/** What the renderer watches: every record a director's file, a zone or the monitoring targets are
 * made from. Not assign/ (every job's spec and env), status/, rollouts/ or the audit. */
function directorGrants(layout: KeyLayout): KeyGrant[] {
  return sortGrants(renderRanges(layout).map((range): KeyGrant => ('prefix' in range ? { permission: 'Read', key: range.prefix, prefix: true } : { permission: 'Read', key: range.key, prefix: false })));
}

function sortGrants(grants: KeyGrant[]): KeyGrant[] {
  return grants.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** What a host's agent writes (its heartbeat, statuses, naming entries) and reads (its assignments,
 * its Host document and the list of hosts, the commit in force). Nothing of another host's. */
function hostGrants(layout: KeyLayout, host: string, services: readonly string[]): KeyGrant[] {
  return [
    { permission: 'Readwrite', key: layout.agent(host), prefix: false },
    { permission: 'Readwrite', key: layout.statuses(host), prefix: true },
    { permission: 'Read', key: layout.assignments(host), prefix: true },
    { permission: 'Read', key: layout.hosts, prefix: true },
    { permission: 'Read', key: layout.syncCurrent, prefix: false },
    ...services.map((service): KeyGrant => ({ permission: 'Readwrite', key: layout.hostNamings(service, host), prefix: true })),
  ];
}

/** Host → the services it may register under: those whose job runs under a tree node binding the host. */
function servicesByHost(model: Model, index: FleetIndex): Map<string, string[]> {
  const byHost = new Map<string, string[]>();
  for (const service of [...model.services.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const job = model.jobs.get(service.job);
    const node = job && index.jobNode(job);
    if (!node) continue;
    for (const host of index.nodeHosts(node)) {
      const services = byHost.get(host.name);
      if (services) services.push(service.name);
      else byHost.set(host.name, [service.name]);
    }
  }
  return byHost;
}
