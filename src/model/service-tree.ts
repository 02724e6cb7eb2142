// The service tree, derived from the tags of TreeNodes and Jobs (Services hang on their job's
// node). Nobody maintains it by hand: it is whatever the tags say.
import { parseTag, type TagLevel } from './tag.js';
import type { FleetIndex } from './fleet-index.js';
import type { Model } from './types.js';

export interface ServiceTreeNode {
  readonly tag: string;
  readonly level: TagLevel;
  readonly value: string;
  readonly children: ServiceTreeNode[];
  /** Set where a TreeNode document declares this node. */
  owners?: readonly string[];
  /** Hosts bound by this node's TreeNode document. */
  boundHosts?: number;
  /** Set on job leaves. */
  job?: { readonly name: string; readonly version: string; readonly replicas?: number; readonly instances: number };
  services: string[];
  /** Totals over the subtree; hosts are those bound by its TreeNodes or running its jobs. */
  jobs: number;
  hosts: number;
  instances: number;
}

export function buildServiceTree(model: Model, index: FleetIndex, placement: ReadonlyMap<string, readonly string[]>): ServiceTreeNode[] {
  const byTag = new Map<string, ServiceTreeNode>();
  const roots: ServiceTreeNode[] = [];
  const ensure = (tag: string): ServiceTreeNode => {
    const existing = byTag.get(tag);
    if (existing) return existing;
    const segments = parseTag(tag);
    const last = segments[segments.length - 1]!;
    const node: ServiceTreeNode = { tag, level: last.level, value: last.value, children: [], services: [], jobs: 0, hosts: 0, instances: 0 };
    byTag.set(tag, node);
    const cut = tag.lastIndexOf('_');
    if (cut > 0) ensure(tag.slice(0, cut)).children.push(node);
    else roots.push(node);
    return node;
  };
  for (const treeNode of model.treeNodes.values()) {
    const node = ensure(treeNode.tag);
    node.owners = treeNode.owners;
    node.boundHosts = index.nodeHosts(treeNode).length;
  }
  for (const job of model.jobs.values()) {
    const node = ensure(job.tag);
    const instances = placement.get(job.name)?.length ?? 0;
    node.job = { name: job.name, version: job.spec.version, instances, ...(job.spec.replicas !== undefined ? { replicas: job.spec.replicas } : {}) };
  }
  for (const service of model.services.values()) {
    const job = model.jobs.get(service.job);
    if (job) byTag.get(job.tag)!.services.push(service.name);
  }
  const total = (node: ServiceTreeNode): Set<string> => {
    node.children.sort((a, b) => (a.tag < b.tag ? -1 : 1));
    node.services.sort();
    const hosts = new Set<string>();
    const treeNode = model.treeNodes.get(node.tag);
    if (treeNode) for (const host of index.nodeHosts(treeNode)) hosts.add(host.name);
    if (node.job) {
      for (const host of placement.get(node.job.name) ?? []) hosts.add(host);
      node.jobs = 1;
      node.instances = node.job.instances;
    }
    for (const child of node.children) {
      for (const host of total(child)) hosts.add(host);
      node.jobs += child.jobs;
      node.instances += child.instances;
    }
    node.hosts = hosts.size;
    return hosts;
  };
  roots.sort((a, b) => (a.tag < b.tag ? -1 : 1));
  for (const root of roots) total(root);
  return roots;
}
