// Lookups derived from a model that placement and checks share: which hosts a tree node binds,
// which tree node a job runs under. Built once per model, in time linear in its size.
import { selfAndAncestors } from './tag.js';
import type { Host, Job, Model, TreeNode } from './types.js';

export interface FleetIndex {
  /** Every host bound to the node, whatever its state, sorted by name (unknown names skipped). */
  nodeHosts(node: TreeNode): readonly Host[];
  /** The online hosts among them, in the same order; one shared array per node. */
  onlineHosts(node: TreeNode): readonly Host[];
  /** The nearest TreeNode at or above the job's tag. */
  jobNode(job: Job): TreeNode | undefined;
  /** Jobs grouped by the tree node they run under. */
  readonly jobsByNode: ReadonlyMap<TreeNode, readonly Job[]>;
}

const byName = (a: Host, b: Host) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function buildFleetIndex(model: Model): FleetIndex {
  const hostsByLabel = new Map<string, Host[]>();
  for (const host of model.hosts.values()) {
    for (const [key, value] of Object.entries(host.labels)) {
      const labelKey = `${key}=${value}`;
      const list = hostsByLabel.get(labelKey);
      if (list) list.push(host);
      else hostsByLabel.set(labelKey, [host]);
    }
  }
  const nodeHostCache = new Map<TreeNode, readonly Host[]>();
  const nodeHosts = (node: TreeNode): readonly Host[] => {
    let hosts = nodeHostCache.get(node);
    if (hosts) return hosts;
    if (node.hosts) {
      hosts = node.hosts.flatMap((name) => model.hosts.get(name) ?? []);
    } else {
      const entries = Object.entries(node.selector ?? {});
      // Start from the smallest label group and filter by the rest.
      const groups = entries.map(([key, value]) => hostsByLabel.get(`${key}=${value}`) ?? []);
      const smallest = groups.reduce<Host[] | undefined>((best, group) => (!best || group.length < best.length ? group : best), undefined) ?? [];
      hosts = entries.length === 0 ? [] : smallest.filter((host) => entries.every(([key, value]) => host.labels[key] === value));
    }
    hosts = [...new Set(hosts)].sort(byName);
    nodeHostCache.set(node, hosts);
    return hosts;
  };
  const onlineCache = new Map<TreeNode, readonly Host[]>();
  const onlineHosts = (node: TreeNode): readonly Host[] => {
    let hosts = onlineCache.get(node);
    if (!hosts) {
      hosts = nodeHosts(node).filter((host) => host.state === 'online');
      onlineCache.set(node, hosts);
    }
    return hosts;
  };
  const nodeOfJob = new Map<Job, TreeNode>();
  const jobsByNode = new Map<TreeNode, Job[]>();
  for (const job of model.jobs.values()) {
    const node = findJobNode(model, job);
    if (!node) continue;
    nodeOfJob.set(job, node);
    const list = jobsByNode.get(node);
    if (list) list.push(job);
    else jobsByNode.set(node, [job]);
  }
  return { nodeHosts, onlineHosts, jobNode: (job) => nodeOfJob.get(job) ?? findJobNode(model, job), jobsByNode };
}

function findJobNode(model: Model, job: Job): TreeNode | undefined {
  for (const tag of selfAndAncestors(job.tag)) {
    const node = model.treeNodes.get(tag);
    if (node) return node;
  }
  return undefined;
}
