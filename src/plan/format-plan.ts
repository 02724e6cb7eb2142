// Plan output for people (text, markdown for a PR comment) and for programs (json). People get the
// actions, then the details (changed values, config/keepalived/zone diffs), bounded: a markdown
// plan that would not fit in a PR comment is shown again with shorter cuts until it does.
import type { Action, Plan } from './compute-plan.js';
import { bounded, DEFAULT_LIMITS, detailsMarkdown, detailsText, type OutputLimits, type PlanDetails } from './format-details.js';
import type { PlannedFile } from './planned-files.js';
import type { JobValueChanges } from './value-changes.js';

export type PlanFormat = 'text' | 'markdown' | 'json';

export interface PlanHeader {
  readonly base?: string;
  readonly head: string;
}

/** What a plan shows beyond its actions (absent: not computed, e.g. by a caller with no templates). */
export interface PlanExtras {
  readonly values?: readonly JobValueChanges[];
  readonly files?: readonly PlannedFile[];
}

/** GitHub refuses a comment over 65,536 characters. */
export const MAX_MARKDOWN_CHARS = 60_000;
const MAX_ACTIONS = 200;
/** Ever shorter cuts for a markdown plan that is too long for a comment; the last one always fits. */
const SHORTER: readonly OutputLimits[] = [DEFAULT_LIMITS, { maxDiffLines: 20, maxItems: 10 }, { maxDiffLines: 5, maxItems: 3 }];

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

function summaryLine(plan: Plan, extras: PlanExtras): string {
  const counts = summarizePlan(plan);
  const instances = `${counts['instance.add']} to add, ${counts['instance.update']} to update, ${counts['instance.remove']} to remove`;
  const vips = counts['vip.add'] + counts['vip.update'] + counts['vip.remove'];
  const zones = extras.files?.filter((file) => file.kind === 'zone').length;
  return `Instances: ${instances}. VIPs: ${vips} changed. Director configs: ${counts['director.update']} to re-render.${zones ? ` Zone files: ${zones} to re-render.` : ''}`;
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
function groupConfigDiffs(actions: readonly Action[]): PlanDetails['configDiffs'] {
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

function actionLines(plan: Plan): string[] {
  const { shown, more } = bounded(plan.actions, MAX_ACTIONS);
  return [...shown.map(describeAction), ...(more > 0 ? [`… ${more} more actions (ygg plan --format json lists them all)`] : [])];
}

export function formatPlan(plan: Plan, header: PlanHeader, format: PlanFormat, extras: PlanExtras = {}): string {
  const range = `${header.base ? header.base.slice(0, 12) : '(empty)'} → ${header.head.slice(0, 12)}`;
  if (format === 'json') {
    const files = extras.files?.map(({ before: _before, after: _after, ...file }) => file);
    return JSON.stringify({ base: header.base ?? null, head: header.head, summary: summarizePlan(plan), actions: plan.actions, ...(extras.values && { values: extras.values }), ...(files && { files }) }, null, 2);
  }
  const details: PlanDetails = { jobs: extras.values ?? [], files: extras.files ?? [], configDiffs: groupConfigDiffs(plan.actions) };
  if (format === 'markdown') {
    const start = [`### ygg plan ${range}`, '', summaryLine(plan, extras)];
    if (plan.actions.length > 0) start.push('', '<details open><summary>Actions</summary>', '', '```diff', ...actionLines(plan), '```', '</details>');
    let text = '';
    for (const limits of SHORTER) {
      text = [...start, ...detailsMarkdown(details, limits)].join('\n');
      if (text.length <= MAX_MARKDOWN_CHARS) return text;
    }
    return [...start, '', `(The details are too long for a comment: run \`ygg plan --base ${header.base?.slice(0, 12) ?? 'none'} --head ${header.head.slice(0, 12)}\` to see them.)`].join('\n');
  }
  const lines = [`Plan ${range}`, summaryLine(plan, extras)];
  if (plan.actions.length === 0) lines.push('No changes.');
  else lines.push('', ...actionLines(plan));
  return [...lines, ...detailsText(details)].join('\n');
}
