import type { HostState } from '../../model/types.js';
import { placeInstances } from '../../plan/place-instances.js';
import { choice, type Command } from '../command.js';
import { formatTable } from '../format-table.js';
import { OUTPUT_OPTION, REF_OPTION, REPO_OPTION, repoPath } from '../repo-options.js';
import { requireModel } from '../require-model.js';
import { EXIT_OK, UsageError } from '../usage-error.js';

export const hostsCommand: Command<{ repo?: string; ref?: string; state?: string; selector?: string; output?: string }> = {
  name: 'hosts',
  summary: 'List hosts with their labels, state, tree nodes and the job instances placed on them.',
  usage: 'hosts [--repo PATH] [--ref REF] [--state online|spare|maintenance] [--selector k=v,...] [--output text|json]',
  options: {
    ...REPO_OPTION,
    ...REF_OPTION,
    state: { type: 'string', valueName: 'STATE', description: 'only hosts in this admin state' },
    selector: { type: 'string', short: 'l', valueName: 'LABELS', description: 'only hosts with these labels, e.g. idc=lg,rack=r01' },
    ...OUTPUT_OPTION,
  },
  async run(values, _positionals, io) {
    const output = choice(values.output, 'output', ['text', 'json'], 'text');
    const state = values.state === undefined ? undefined : choice<HostState>(values.state, 'state', ['online', 'spare', 'maintenance'], 'online');
    const selector = parseSelector(values.selector);
    const { model, index } = await requireModel(repoPath(values), values.ref, io);
    const placement = placeInstances(model, index);
    const jobsByHost = new Map<string, string[]>();
    for (const [job, hosts] of placement) for (const host of hosts) jobsByHost.set(host, [...(jobsByHost.get(host) ?? []), job]);
    const nodesByHost = new Map<string, string[]>();
    for (const node of model.treeNodes.values()) for (const host of index.nodeHosts(node)) nodesByHost.set(host.name, [...(nodesByHost.get(host.name) ?? []), node.tag]);
    const hosts = [...model.hosts.values()]
      .filter((host) => (state === undefined || host.state === state) && Object.entries(selector).every(([key, value]) => host.labels[key] === value))
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((host) => ({
        name: host.name,
        ip: host.ip,
        state: host.state,
        labels: host.labels,
        treeNodes: (nodesByHost.get(host.name) ?? []).sort(),
        jobs: (jobsByHost.get(host.name) ?? []).sort(),
      }));
    if (output === 'json') {
      io.stdout(JSON.stringify(hosts, null, 2));
      return EXIT_OK;
    }
    const rows = hosts.map((host) => [
      host.name,
      host.ip,
      host.state,
      Object.entries(host.labels).map(([key, value]) => `${key}=${value}`).join(',') || '-',
      String(host.jobs.length),
      host.jobs.join(',') || '-',
    ]);
    io.stdout(formatTable(['HOST', 'IP', 'STATE', 'LABELS', 'INSTANCES', 'JOBS'], rows));
    return EXIT_OK;
  },
};

function parseSelector(text: string | undefined): Record<string, string> {
  if (text === undefined) return {};
  const selector: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const [key, value, ...extra] = pair.split('=');
    if (!key || value === undefined || extra.length > 0) throw new UsageError(`--selector takes key=value pairs separated by commas, got "${text}"`);
    selector[key] = value;
  }
  return selector;
}
