// Plan output for people (text, markdown for a PR comment) and for programs (json).
import type { Action, Plan } from './compute-plan.js';

export type PlanFormat = 'text' | 'markdown' | 'json';

export interface PlanHeader {
  readonly base?: string;
  readonly head: string;
}

export function summarizePlan(plan: Plan): Record<Action['type'], number> {
  const counts: Record<Action['type'], number> = {
    'instance.add': 0,
    'instance.update': 0,
    'instance.remove': 0,
    'vip.add': 0,
    'vip.update': 0,
    'vip.remove': 0,
    'director.update': 0,
  };
  for (const action of plan.actions) counts[action.type]++;
  return counts;
}

function summaryLine(plan: Plan): string {
  const counts = summarizePlan(plan);
  const instances = `${counts['instance.add']} to add, ${counts['instance.update']} to update, ${counts['instance.remove']} to remove`;
  const vips = counts['vip.add'] + counts['vip.update'] + counts['vip.remove'];
  return `Instances: ${instances}. VIPs: ${vips} changed. Director configs: ${counts['director.update']} to re-render.`;
}

function describeAction(action: Action): string {
  switch (action.type) {
    case 'instance.add':
      return `+ ${action.job} on ${action.host} (version ${action.version})`;
    case 'instance.remove':
      return `- ${action.job} on ${action.host} (version ${action.version})`;
    case 'instance.update': {
      const version = action.fromVersion === action.version ? '' : ` ${action.fromVersion} → ${action.version};`;
      return `~ ${action.job} on ${action.host}:${version} changed ${action.changes.join(', ')}`;
    }
    case 'vip.add':
      return `+ vip ${action.vip} for ${action.service}`;
    case 'vip.remove':
      return `- vip ${action.vip} for ${action.service}`;
    case 'vip.update':
      return `~ vip ${action.vip} for ${action.service}: changed ${action.changes.join(', ')}`;
    case 'director.update':
      return `~ director ${action.director}: keepalived.conf changes (${action.services.join(', ')})`;
  }
}

/** Identical config diffs on many hosts are shown once, with the hosts they apply to. */
function groupConfigDiffs(actions: readonly Action[]): { hosts: string[]; job: string; diff: string }[] {
  const groups = new Map<string, { hosts: string[]; job: string; diff: string }>();
  for (const action of actions) {
    if (action.type !== 'instance.update') continue;
    for (const configDiff of action.configDiffs) {
      const key = `${action.job}\0${configDiff.diff}`;
      const group = groups.get(key) ?? { hosts: [], job: action.job, diff: configDiff.diff };
      group.hosts.push(action.host);
      groups.set(key, group);
    }
  }
  return [...groups.values()];
}

function hostList(hosts: readonly string[]): string {
  return hosts.length > 5 ? `${hosts.slice(0, 5).join(', ')} and ${hosts.length - 5} more` : hosts.join(', ');
}

export function formatPlan(plan: Plan, header: PlanHeader, format: PlanFormat): string {
  const range = `${header.base ? header.base.slice(0, 12) : '(empty)'} → ${header.head.slice(0, 12)}`;
  if (format === 'json') {
    return JSON.stringify({ base: header.base ?? null, head: header.head, summary: summarizePlan(plan), actions: plan.actions }, null, 2);
  }
  const diffs = groupConfigDiffs(plan.actions);
  if (format === 'markdown') {
    const lines = [`### ygg plan ${range}`, '', summaryLine(plan)];
    if (plan.actions.length > 0) {
      lines.push('', '<details open><summary>Actions</summary>', '', '```diff', ...plan.actions.map(describeAction), '```', '</details>');
    }
    for (const group of diffs) {
      lines.push('', `<details><summary>${group.job}: config diff on ${hostList(group.hosts)}</summary>`, '', '```diff', group.diff, '```', '</details>');
    }
    return lines.join('\n');
  }
  const lines = [`Plan ${range}`, summaryLine(plan)];
  if (plan.actions.length === 0) lines.push('No changes.');
  else lines.push('', ...plan.actions.map(describeAction));
  for (const group of diffs) lines.push('', `${group.job}: config diff on ${hostList(group.hosts)}`, group.diff);
  return lines.join('\n');
}
