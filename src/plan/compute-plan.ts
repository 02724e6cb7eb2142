// The plan: a pure diff between two desired states, as a sorted list of actions. The same function
// serves `ygg plan` on a pull request (base commit vs head commit) and, later, the controller.
import type { FleetIndex } from '../model/fleet-index.js';
import type { Host, Job, Model, Service } from '../model/types.js';
import { canonicalJson } from './canonical-json.js';
import type { Placement } from './place-instances.js';
import { unifiedDiff } from './unified-diff.js';
import { DEFAULT_AGENT_ROOT, instanceDirs, renderInstance, type InstanceSpec } from './render-instance.js';

export interface DesiredState {
  readonly model: Model;
  readonly index: FleetIndex;
  readonly placement: Placement;
}

export interface ConfigDiff {
  readonly path: string;
  readonly diff: string;
}

export type Action =
  | { readonly type: 'instance.add'; readonly host: string; readonly job: string; readonly version: string }
  | { readonly type: 'instance.update'; readonly host: string; readonly job: string; readonly fromVersion: string; readonly version: string; readonly changes: readonly string[]; readonly configDiffs: readonly ConfigDiff[] }
  | { readonly type: 'instance.remove'; readonly host: string; readonly job: string; readonly version: string }
  | { readonly type: 'vip.add' | 'vip.remove'; readonly service: string; readonly vip: string }
  | { readonly type: 'vip.update'; readonly service: string; readonly vip: string; readonly changes: readonly string[] }
  | { readonly type: 'director.update'; readonly director: string; readonly services: readonly string[] };

export interface Plan {
  readonly actions: readonly Action[];
}

const EMPTY_PLACEMENT: Placement = new Map();

export function computePlan(base: DesiredState | undefined, head: DesiredState): Plan {
  const actions: Action[] = [];
  const jobNames = new Set([...(base?.placement.keys() ?? []), ...head.placement.keys()]);
  for (const jobName of jobNames) actions.push(...diffJob(jobName, base, head));
  actions.push(...diffServices(base, head));
  return { actions: actions.sort(compareActions) };
}

const NO_HOSTS: readonly string[] = [];

/** Same job object on the same hosts, each the same object: nothing to do, decided without allocating. */
function isUnchanged(jobName: string, base: DesiredState, head: DesiredState): boolean {
  if (base.model.jobs.get(jobName) !== head.model.jobs.get(jobName)) return false;
  const before = base.placement.get(jobName) ?? NO_HOSTS;
  const after = head.placement.get(jobName) ?? NO_HOSTS;
  if (before.length !== after.length) return false;
  for (let index = 0; index < before.length; index++) {
    const host = before[index]!;
    if (host !== after[index] || base.model.hosts.get(host) !== head.model.hosts.get(host)) return false;
  }
  return true;
}

function diffJob(jobName: string, base: DesiredState | undefined, head: DesiredState): Action[] {
  if (base && isUnchanged(jobName, base, head)) return [];
  const baseJob = base?.model.jobs.get(jobName);
  const headJob = head.model.jobs.get(jobName);
  const baseHosts = new Set((base?.placement ?? EMPTY_PLACEMENT).get(jobName) ?? []);
  const headHosts = new Set(head.placement.get(jobName) ?? []);
  const actions: Action[] = [];
  for (const host of headHosts) {
    if (!baseHosts.has(host)) actions.push({ type: 'instance.add', host, job: jobName, version: headJob!.spec.version });
  }
  for (const host of baseHosts) {
    if (!headHosts.has(host)) actions.push({ type: 'instance.remove', host, job: jobName, version: baseJob!.spec.version });
  }
  for (const hostName of headHosts) {
    if (!baseHosts.has(hostName)) continue;
    const baseHost = base!.model.hosts.get(hostName)!;
    const headHost = head.model.hosts.get(hostName)!;
    // Unchanged blobs give the very same objects, so most instances are settled by identity.
    if (baseJob === headJob && baseHost === headHost) continue;
    const update = diffInstance(baseJob!, baseHost, headJob!, headHost);
    if (update) actions.push(update);
  }
  return actions;
}

const SPEC_FIELDS = ['version', 'artifact', 'command', 'env', 'ports', 'configs', 'dependencies', 'cron', 'health', 'resources', 'rollout', 'tag'] as const;

function diffInstance(baseJob: Job, baseHost: Host, headJob: Job, headHost: Host): Action | undefined {
  const before = renderInstance(baseJob, baseHost, instanceDirs(DEFAULT_AGENT_ROOT, baseJob.name));
  const after = renderInstance(headJob, headHost, instanceDirs(DEFAULT_AGENT_ROOT, headJob.name));
  const changes: string[] = SPEC_FIELDS.filter((field) => canonicalJson(before[field]) !== canonicalJson(after[field]));
  // A rotated secret renders the same mark: its version tells the instances apart.
  if (canonicalJson(baseJob.spec.secretVersions ?? {}) !== canonicalJson(headJob.spec.secretVersions ?? {})) changes.push('secrets');
  if (changes.length === 0) return undefined;
  return {
    type: 'instance.update',
    host: headHost.name,
    job: headJob.name,
    fromVersion: before.version,
    version: after.version,
    changes,
    configDiffs: changes.includes('configs') ? diffConfigs(before, after) : [],
  };
}

function diffConfigs(before: InstanceSpec, after: InstanceSpec): ConfigDiff[] {
  const beforeByPath = new Map(before.configs.map((config) => [config.path, config.content]));
  const afterByPath = new Map(after.configs.map((config) => [config.path, config.content]));
  const paths = [...new Set([...beforeByPath.keys(), ...afterByPath.keys()])].sort();
  return paths.flatMap((path) => {
    const old = beforeByPath.get(path);
    const next = afterByPath.get(path);
    if (old === next) return [];
    return [{ path, diff: unifiedDiff(path, old, next) }];
  });
}

const VIP_FIELDS = ['address', 'port', 'protocol', 'lbAlgo', 'lbKind', 'persistenceSeconds', 'check', 'sorryServer'] as const;

function vipLabel(service: Service): string {
  const vip = service.vip!;
  return `${vip.address}:${vip.port}/${vip.protocol}`;
}

/** The real servers a director would list for a service: ip:port of every placed instance. */
function endpoints(service: Service | undefined, state: DesiredState | undefined): string {
  const job = service && state?.model.jobs.get(service.job);
  const port = job?.spec.ports[service!.port];
  if (!job || port === undefined) return '';
  const hosts = state!.placement.get(job.name) ?? [];
  return hosts.map((host) => `${state!.model.hosts.get(host)?.ip}:${port}`).sort().join(',');
}

/** VIP changes, and every director whose rendered config changes: its VIPs or their real servers. */
function diffServices(base: DesiredState | undefined, head: DesiredState): Action[] {
  const actions: Action[] = [];
  const affected = new Map<string, Set<string>>();
  const touch = (service: Service | undefined) => {
    if (!service?.vip) return;
    for (const director of service.directors) {
      const services = affected.get(director) ?? new Set<string>();
      services.add(service.name);
      affected.set(director, services);
    }
  };
  const names = new Set([...(base?.model.services.keys() ?? []), ...head.model.services.keys()]);
  for (const name of names) {
    const before = base?.model.services.get(name);
    const after = head.model.services.get(name);
    // Only VIPs reach directors. An unchanged service object still needs its endpoints compared:
    // a host's ip can change while the job renders nothing from it (no instance.update).
    if (!before?.vip && !after?.vip) continue;
    const endpointsChanged = endpoints(before, base) !== endpoints(after, head);
    if (before === after && !endpointsChanged) continue;
    if (before?.vip && !after?.vip) actions.push({ type: 'vip.remove', service: name, vip: vipLabel(before) });
    else if (!before?.vip && after?.vip) actions.push({ type: 'vip.add', service: name, vip: vipLabel(after) });
    else if (before?.vip && after?.vip) {
      const changes = VIP_FIELDS.filter((field) => canonicalJson(before.vip![field]) !== canonicalJson(after.vip![field]));
      if (changes.length > 0) actions.push({ type: 'vip.update', service: name, vip: vipLabel(after), changes });
    }
    if (endpointsChanged || canonicalJson(serviceShape(before)) !== canonicalJson(serviceShape(after))) {
      touch(before);
      touch(after);
    }
  }
  for (const [director, services] of affected) actions.push({ type: 'director.update', director, services: [...services].sort() });
  return actions;
}

function serviceShape(service: Service | undefined): unknown {
  return service && { vip: service.vip, directors: service.directors };
}

const ACTION_ORDER: Readonly<Record<Action['type'], number>> = {
  'instance.add': 0,
  'instance.update': 1,
  'instance.remove': 2,
  'vip.add': 3,
  'vip.update': 4,
  'vip.remove': 5,
  'director.update': 6,
};

function actionKey(action: Action): string {
  switch (action.type) {
    case 'instance.add':
    case 'instance.update':
    case 'instance.remove':
      return `${action.job}\0${action.host}`;
    case 'director.update':
      return action.director;
    default:
      return action.service;
  }
}

function compareActions(a: Action, b: Action): number {
  const order = ACTION_ORDER[a.type] - ACTION_ORDER[b.type];
  if (order !== 0) return order;
  const keyA = actionKey(a);
  const keyB = actionKey(b);
  return keyA < keyB ? -1 : keyA > keyB ? 1 : 0;
}
