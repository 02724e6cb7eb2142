import { buildServiceTree, type ServiceTreeNode } from '../../model/service-tree.js';
import { compileTagPattern } from '../../model/tag.js';
import { placeInstances } from '../../plan/place-instances.js';
import { choice, type Command } from '../command.js';
import { OUTPUT_OPTION, REF_OPTION, REPO_OPTION, repoPath } from '../repo-options.js';
import { requireModel } from '../require-model.js';
import { EXIT_OK } from '../usage-error.js';

export const treeCommand: Command<{ repo?: string; ref?: string; match?: string; output?: string }> = {
  name: 'tree',
  summary: 'Show the service tree derived from the tags, with job, host and instance counts per node.',
  usage: 'tree [--repo PATH] [--ref REF] [--match TAGGLOB] [--output text|json]',
  options: {
    ...REPO_OPTION,
    ...REF_OPTION,
    match: { type: 'string', short: 'm', valueName: 'TAGGLOB', description: 'only nodes under a tag or glob, e.g. cop.xiaomi_owt.miliao or "*_job.im-*"' },
    ...OUTPUT_OPTION,
  },
  async run(values, _positionals, io) {
    const output = choice(values.output, 'output', ['text', 'json'], 'text');
    const { model, index } = await requireModel(repoPath(values), values.ref, io);
    const roots = buildServiceTree(model, index, placeInstances(model, index));
    const matches = values.match === undefined ? undefined : compileTagPattern(values.match);
    const selected = matches ? roots.flatMap((root) => prune(root, matches)) : roots;
    if (output === 'json') io.stdout(JSON.stringify(selected, null, 2));
    else if (selected.length > 0) io.stdout(renderTree(selected));
    else io.stdout(values.match === undefined ? 'the service tree is empty: the repo declares no TreeNode and no Job' : `no node matches ${values.match}`);
    return EXIT_OK;
  },
};

/** Keeps matching nodes with their whole subtree, and their ancestors for context. */
function prune(node: ServiceTreeNode, matches: (tag: string) => boolean): ServiceTreeNode[] {
  if (matches(node.tag)) return [node];
  const children = node.children.flatMap((child) => prune(child, matches));
  return children.length === 0 ? [] : [{ ...node, children }];
}

function label(node: ServiceTreeNode): string {
  const name = `${node.level}.${node.value}`;
  if (node.job) {
    const replicas = node.job.replicas === undefined ? 'every host' : `replicas ${node.job.replicas}`;
    const services = node.services.length ? `  services: ${node.services.join(', ')}` : '';
    return `${name}  v${node.job.version}  ${node.job.instances} instance(s) (${replicas})${services}`;
  }
  const bound = node.owners ? `  [${node.boundHosts} host(s), owners: ${node.owners.join(', ') || '-'}]` : '';
  return `${name}  jobs ${node.jobs}, hosts ${node.hosts}, instances ${node.instances}${bound}`;
}

function renderTree(roots: readonly ServiceTreeNode[]): string {
  const lines: string[] = [];
  const visit = (node: ServiceTreeNode, prefix: string, childPrefix: string) => {
    lines.push(prefix + label(node));
    node.children.forEach((child, position) => {
      const last = position === node.children.length - 1;
      visit(child, `${childPrefix}${last ? '└─ ' : '├─ '}`, `${childPrefix}${last ? '   ' : '│  '}`);
    });
  };
  for (const root of roots) visit(root, '', '');
  return lines.join('\n');
}
