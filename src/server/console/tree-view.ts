// GET /api/tree: the service tree of the commit in force, each node with its counts (jobs, hosts,
// instances, healthy instances) and the worst health and sync of the jobs under it, so a red leaf
// shows as a red branch all the way up.
import { buildServiceTree, type ServiceTreeNode } from '../../model/service-tree.js';
import type { TagLevel } from '../../model/tag.js';
import type { JobHealth, JobState } from '../controller-status.js';
import type { FleetFacts, JobSync } from './fleet-facts.js';

export interface TreeJob {
  readonly name: string;
  readonly version: string;
  readonly state: JobState;
  readonly sync: JobSync;
  readonly desired: number;
  readonly healthy: number;
}

export interface TreeViewNode {
  readonly tag: string;
  readonly level: TagLevel;
  readonly value: string;
  readonly jobs: number;
  readonly hosts: number;
  readonly instances: number;
  readonly healthy: number;
  /** The worst of the jobs below; absent on a node without jobs. */
  readonly health?: JobState;
  readonly sync?: JobSync;
  readonly owners?: readonly string[];
  readonly services?: readonly string[];
  readonly job?: TreeJob;
  readonly children: readonly TreeViewNode[];
}

export interface TreeView {
  /** The commit whose tree this is; null before one is in force (or on a standby controller). */
  readonly commit: string | null;
  readonly roots: readonly TreeViewNode[];
  /** Jobs still assigned that the commit in force no longer declares (being removed). */
  readonly unlisted: readonly TreeJob[];
}

/** Worst first: a branch takes the colour of its worst job. */
const HEALTH_ORDER: readonly JobState[] = ['Degraded', 'Missing', 'Progressing', 'Healthy'];
const SYNC_ORDER: readonly JobSync[] = ['Failed', 'OutOfSync', 'Progressing', 'Unknown', 'Synced'];

function worst<T>(order: readonly T[], values: readonly (T | undefined)[]): T | undefined {
  let best: T | undefined;
  for (const value of values) if (value !== undefined && (best === undefined || order.indexOf(value) < order.indexOf(best))) best = value;
  return best;
}

export function treeJob(name: string, version: string, facts: FleetFacts): TreeJob {
  const health: JobHealth | undefined = facts.health.get(name);
  return { name, version, state: health?.state ?? 'Missing', sync: facts.sync.get(name) ?? 'Unknown', desired: health?.desired ?? 0, healthy: health?.healthy ?? 0 };
}

export function buildTreeView(facts: FleetFacts): TreeView {
  const { inForce, observed } = facts.state;
  if (!inForce) return { commit: null, roots: [], unlisted: [...facts.health.values()].map((job) => treeJob(job.name, job.version, facts)) };
  // Counted from what is assigned, not from a fresh placement: the tree shows the fleet as it is.
  const placement = new Map([...(observed.byJob ?? new Map<string, ReadonlyMap<string, unknown>>())].map(([job, hosts]) => [job, [...hosts.keys()]]));
  const roots = buildServiceTree(inForce.model, inForce.index, placement);
  const unlisted = [...facts.health.values()].filter((job) => !inForce.model.jobs.has(job.name)).map((job) => treeJob(job.name, job.version, facts));
  return { commit: inForce.commit.sha, roots: roots.map((root) => annotate(root, facts)), unlisted };
}

function annotate(node: ServiceTreeNode, facts: FleetFacts): TreeViewNode {
  const children = node.children.map((child) => annotate(child, facts));
  const job = node.job && treeJob(node.job.name, node.job.version, facts);
  const below = job ? [job] : [];
  const health = worst(HEALTH_ORDER, [...below.map((leaf) => leaf.state), ...children.map((child) => child.health)]);
  const sync = worst(SYNC_ORDER, [...below.map((leaf) => leaf.sync), ...children.map((child) => child.sync)]);
  return {
    tag: node.tag,
    level: node.level,
    value: node.value,
    jobs: node.jobs,
    hosts: node.hosts,
    instances: node.instances,
    healthy: (job?.healthy ?? 0) + children.reduce((sum, child) => sum + child.healthy, 0),
    ...(health !== undefined && { health }),
    ...(sync !== undefined && { sync }),
    ...(node.owners && { owners: node.owners }),
    ...(node.services.length > 0 && { services: node.services }),
    ...(job && { job }),
    children,
  };
}
