// Placement: which hosts each job runs on. Pure; stable across host-set changes because it keeps
// the hosts a job already has (the previous placement) and breaks ties by rendezvous hashing.
import type { FleetIndex } from '../model/fleet-index.js';
import type { Host, Job, Model, TreeNode } from '../model/types.js';

/** Job name → the names of the hosts it runs on, sorted. */
export type Placement = ReadonlyMap<string, readonly string[]>;

/** Replicas are spread across these labels, the first one first. */
const SPREAD_LABELS = ['idc', 'rack'] as const;

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
 * `unavailable`: hosts replicas must leave (their agent has been lost too long); jobs on every host
 * of a node are never moved.
 */
export function placeInstances(model: Model, index: FleetIndex, previous?: Pick<Placement, 'get'>, unavailable?: ReadonlySet<string>): Placement {
  const placement = new Map<string, readonly string[]>();
  // Jobs on every host of a node share one list of names (already sorted: node hosts are).
  const everyHost = new Map<TreeNode, readonly string[]>();
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
      const usable = unavailable && unavailable.size > 0 ? online.filter((host) => !unavailable.has(host.name)) : online;
      placement.set(job.name, placeReplicas(job, usable, previous?.get(job.name)));
    }
  }
  return placement;
}

const sameItems = <T>(a: readonly T[] | undefined, b: readonly T[] | undefined) =>
  a === b || (a !== undefined && b !== undefined && a.length === b.length && a.every((item, index) => item === b[index]));

/** The last answer per job: an unchanged job on unchanged hosts keeps its placement without re-ranking. */
const lastReplicaPlacement = new WeakMap<Job, { online: readonly Host[]; previous?: readonly string[]; names: readonly string[] }>();

function placeReplicas(job: Job, online: readonly Host[], previous: readonly string[] | undefined): readonly string[] {
  const last = lastReplicaPlacement.get(job);
  if (last && sameItems(last.online, online) && (sameItems(last.previous, previous) || sameItems(last.names, previous))) return last.names;
  const names = pickReplicas(job, online, job.spec.replicas!, previous).map((host) => host.name).sort();
  lastReplicaPlacement.set(job, { online, ...(previous ? { previous } : {}), names });
  return names;
}

interface Candidate {
  readonly host: Host;
  readonly score: number;
  readonly spread: readonly string[];
}

/**
 * Picks `replicas` hosts: first the previously placed ones that are still eligible, then greedily the
 * candidate in the least used idc, then the least used rack, then the highest score. When replicas
 * shrink, the most crowded and lowest-scored instances go first.
 */
function pickReplicas(job: Job, online: readonly Host[], replicas: number, previousHosts: readonly string[] | undefined): Host[] {
  const candidates: Candidate[] = online.map((host) => ({
    host,
    score: fnv1a(`${job.name}\0${host.name}`),
    spread: SPREAD_LABELS.map((label) => host.labels[label] ?? ''),
  }));
  const kept = new Set(previousHosts ?? []);
  const chosen = candidates.filter((candidate) => kept.has(candidate.host.name));
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
  const remaining = candidates.filter((candidate) => !chosenNames.has(candidate.host.name));
  while (chosen.length < replicas && remaining.length > 0) {
    let best = 0;
    for (let position = 1; position < remaining.length; position++) if (compare(remaining[position]!, remaining[best]!) < 0) best = position;
    const [next] = remaining.splice(best, 1);
    use(next!, 1);
    chosen.push(next!);
  }
  return chosen.map((candidate) => candidate.host);
}
