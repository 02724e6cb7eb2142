// Placement: which hosts each job runs on. Pure; stable across host-set changes because it keeps
// the hosts a job already has (the previous placement) and breaks ties by rendezvous hashing.
import type { FleetIndex } from '../model/fleet-index.js';
import type { Host, Job, Model, TreeNode } from '../model/types.js';

/** Job name → the names of the hosts it runs on, sorted. */
export type Placement = ReadonlyMap<string, readonly string[]>;

/** The label that names a host's data center: replicas spread across it first; partitions are judged by it. */
export const IDC_LABEL = 'idc';
/** Replicas are spread across these labels, the first one first. */
const SPREAD_LABELS = [IDC_LABEL, 'rack'] as const;

/** 32-bit FNV-1a: a cheap, well-mixed hash, so each job ranks hosts in its own order. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Hosts whose agent is gone. `lost` ones get no new replicas; `evacuate` ones (lost for long enough,
 * and within the rate limit) also give theirs up, but only to a host that takes them: a replica with
 * nowhere else to go stays where it is. Jobs on every host of a node are never moved.
 */
export interface LostHosts {
  readonly lost: ReadonlySet<string>;
  /** A subset of `lost`. */
  readonly evacuate: ReadonlySet<string>;
}

const NONE_LOST: LostHosts = { lost: new Set(), evacuate: new Set() };

/** A node's online hosts split by what placement may do with them. */
interface NodeHosts {
  readonly online: readonly Host[];
  /** Online hosts that are lost, and those to evacuate: a placement is reusable only while these stay the same. */
  readonly lost: readonly Host[];
  readonly evacuate: readonly Host[];
}

export function placeInstances(model: Model, index: FleetIndex, previous?: Pick<Placement, 'get'>, lostHosts: LostHosts = NONE_LOST): Placement {
  const placement = new Map<string, readonly string[]>();
  // Jobs on every host of a node share one list of names (already sorted: node hosts are).
  const everyHost = new Map<TreeNode, readonly string[]>();
  const nodeHosts = new Map<TreeNode, NodeHosts>();
  for (const job of model.jobs.values()) {
    const node = index.jobNode(job);
    if (!node) {
      placement.set(job.name, []);
      continue;
    }
    const online = index.onlineHosts(node);
    if (job.spec.replicas === undefined) {
      let names = everyHost.get(node);
      if (!names) {
        names = online.map((host) => host.name);
        everyHost.set(node, names);
      }
      placement.set(job.name, names);
    } else {
      let hosts = nodeHosts.get(node);
      if (!hosts) {
        hosts = splitHosts(online, lostHosts);
        nodeHosts.set(node, hosts);
      }
      placement.set(job.name, placeReplicas(job, hosts, previous?.get(job.name)));
    }
  }
  return placement;
}

const NO_HOSTS: readonly Host[] = [];

function splitHosts(online: readonly Host[], { lost, evacuate }: LostHosts): NodeHosts {
  if (lost.size === 0) return { online, lost: NO_HOSTS, evacuate: NO_HOSTS };
  return { online, lost: online.filter((host) => lost.has(host.name)), evacuate: online.filter((host) => evacuate.has(host.name)) };
}

const sameItems = <T>(a: readonly T[] | undefined, b: readonly T[] | undefined) =>
  a === b || (a !== undefined && b !== undefined && a.length === b.length && a.every((item, index) => item === b[index]));

/** The last answer per job: an unchanged job on unchanged hosts keeps its placement without re-ranking. */
const lastReplicaPlacement = new WeakMap<Job, { hosts: NodeHosts; previous?: readonly string[]; names: readonly string[] }>();

function placeReplicas(job: Job, hosts: NodeHosts, previous: readonly string[] | undefined): readonly string[] {
  const last = lastReplicaPlacement.get(job);
  if (
    last &&
    sameItems(last.hosts.online, hosts.online) &&
    sameItems(last.hosts.lost, hosts.lost) &&
    sameItems(last.hosts.evacuate, hosts.evacuate) &&
    (sameItems(last.previous, previous) || sameItems(last.names, previous))
  ) {
    return last.names;
  }
  const names = pickReplicas(job, hosts, job.spec.replicas!, previous).map((host) => host.name).sort();
  lastReplicaPlacement.set(job, { hosts, ...(previous ? { previous } : {}), names });
  return names;
}

interface Candidate {
  readonly host: Host;
  readonly score: number;
  readonly spread: readonly string[];
}

/**
 * Picks `replicas` hosts: first the previously placed ones that are still eligible, then greedily the
 * candidate in the least used idc, then the least used rack, then the highest score; lost hosts are
 * never picked anew. When replicas shrink, the most crowded and lowest-scored instances go first.
 * Last, previous hosts being evacuated fill what no other host could take.
 */
function pickReplicas(job: Job, hosts: NodeHosts, replicas: number, previousHosts: readonly string[] | undefined): Host[] {
  const candidates: Candidate[] = hosts.online.map((host) => ({
    host,
    score: fnv1a(`${job.name}\0${host.name}`),
    spread: SPREAD_LABELS.map((label) => host.labels[label] ?? ''),
  }));
  const kept = new Set(previousHosts ?? []);
  const lost = new Set(hosts.lost);
  const evacuate = new Set(hosts.evacuate);
  const chosen = candidates.filter((candidate) => kept.has(candidate.host.name) && !evacuate.has(candidate.host));
  const usage = new Map<string, number>();
  const spreadKeys = (candidate: Candidate) => candidate.spread.map((_, depth) => candidate.spread.slice(0, depth + 1).join('\0'));
  const use = (candidate: Candidate, delta: number) => {
    for (const key of spreadKeys(candidate)) usage.set(key, (usage.get(key) ?? 0) + delta);
  };
  const crowding = (candidate: Candidate) => spreadKeys(candidate).map((key) => usage.get(key) ?? 0);
  /** Negative when `a` is the better pick: less crowded at the first differing level, then higher score. */
  const compare = (a: Candidate, b: Candidate) => {
    const crowdA = crowding(a);
    const crowdB = crowding(b);
    for (let depth = 0; depth < crowdA.length; depth++) if (crowdA[depth] !== crowdB[depth]) return crowdA[depth]! - crowdB[depth]!;
    return b.score - a.score || (a.host.name < b.host.name ? -1 : 1);
  };
  for (const candidate of chosen) use(candidate, 1);
  while (chosen.length > replicas) {
    // Every chosen candidate counts itself in its groups, so crowding compares fairly.
    let worst = 0;
    for (let position = 1; position < chosen.length; position++) if (compare(chosen[position]!, chosen[worst]!) > 0) worst = position;
    use(chosen[worst]!, -1);
    chosen.splice(worst, 1);
  }
  const chosenNames = new Set(chosen.map((candidate) => candidate.host.name));
  const fill = (pool: Candidate[]) => {
    while (chosen.length < replicas && pool.length > 0) {
      let best = 0;
      for (let position = 1; position < pool.length; position++) if (compare(pool[position]!, pool[best]!) < 0) best = position;
      const [next] = pool.splice(best, 1);
      use(next!, 1);
      chosen.push(next!);
    }
  };
  fill(candidates.filter((candidate) => !chosenNames.has(candidate.host.name) && !lost.has(candidate.host)));
  // Never an unassign without a replacement: what could not move stays on its lost host.
  fill(candidates.filter((candidate) => kept.has(candidate.host.name) && evacuate.has(candidate.host)));
  return chosen.map((candidate) => candidate.host);
}
