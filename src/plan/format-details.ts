// The details under a plan's actions, for people: changed values per job and the diffs of the files
// renderers would write (config files per instance, keepalived.conf per director, zone files), as
// text or as markdown for a PR comment. Bounded whatever the change: at most `maxDiffLines` lines
// of each diff and `maxItems` jobs and files, each cut saying how much it left out.
import type { PlannedFile } from './planned-files.js';
import { MASK, maskSecretLines, type JobValueChanges, type ValueChange } from './value-changes.js';

export interface PlanDetails {
  readonly jobs: readonly JobValueChanges[];
  readonly files: readonly PlannedFile[];
  /** Instance config diffs, one per distinct diff, with the hosts it applies to. */
  readonly configDiffs: readonly { readonly hosts: readonly string[]; readonly job: string; readonly diff: string }[];
}

export interface OutputLimits {
  readonly maxDiffLines: number;
  readonly maxItems: number;
}

export const DEFAULT_LIMITS: OutputLimits = { maxDiffLines: 60, maxItems: 30 };

const MAX_VALUE_CHARS = 120;
export const LIVE_NOTE = "Endpoints as placement puts them: every placed instance's host ip:port counts as live.";

/** A value on one line: control characters escaped, long values cut. */
function showValue(value: string): string {
  const text = value === MASK ? value : /[\u0000-\u001f\u007f]/.test(value) ? JSON.stringify(value) : value;
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

export function describeValue(change: ValueChange): string {
  const secret = change.secret === undefined ? '' : change.before === MASK ? ` (${change.secret})` : ` (secret parts ${change.secret})`;
  if (change.before === undefined) return `+ ${change.field}: ${showValue(change.after!)}`;
  if (change.after === undefined) return `- ${change.field}: ${showValue(change.before)}`;
  if (change.before === MASK && change.after === MASK) return `~ ${change.field}: ${MASK}${secret}`;
  return `~ ${change.field}: ${showValue(change.before)} → ${showValue(change.after)}${secret}`;
}

/** The first `max` items, and a line saying how many were left out. */
export function bounded<T>(items: readonly T[], max: number): { shown: readonly T[]; more: number } {
  return { shown: items.slice(0, max), more: Math.max(0, items.length - max) };
}

function cutDiff(diff: string, limits: OutputLimits): string[] {
  const lines = diff.split('\n');
  const { shown, more } = bounded(lines, limits.maxDiffLines);
  return more > 0 ? [...shown, `… ${more} more lines`] : [...shown];
}

function countChanges(diff: string | undefined): string {
  const lines = diff?.split('\n') ?? [];
  const added = lines.filter((line) => line.startsWith('+') && !line.startsWith('+++')).length;
  const removed = lines.filter((line) => line.startsWith('-') && !line.startsWith('---')).length;
  return `+${added} −${removed}`;
}

function hostList(hosts: readonly string[]): string {
  return hosts.length > 5 ? `${hosts.slice(0, 5).join(', ')} and ${hosts.length - 5} more` : hosts.join(', ');
}

/** A titled block of lines: each format lays it out its own way. */
interface Block {
  readonly title: string;
  readonly lines: readonly string[];
  readonly open?: boolean;
}

interface Section {
  readonly heading: string;
  readonly note?: string;
  readonly blocks: readonly Block[];
  readonly more: number;
  readonly noun: string;
}

function sections(details: PlanDetails, limits: OutputLimits): Section[] {
  const result: Section[] = [];
  const jobs = bounded(details.jobs, limits.maxItems);
  if (details.jobs.length > 0) {
    result.push({ heading: 'Changed values', noun: 'jobs', more: jobs.more, blocks: jobs.shown.map((job) => ({ title: `${job.job} (${job.changes.length} ${job.changes.length === 1 ? 'value' : 'values'})`, lines: job.changes.map(describeValue), open: true })) });
  }
  const configs = bounded(details.configDiffs, limits.maxItems);
  if (details.configDiffs.length > 0) {
    result.push({ heading: 'Config files', noun: 'config diffs', more: configs.more, blocks: configs.shown.map((group) => ({ title: `${group.job}: config diff on ${hostList(group.hosts)}`, lines: cutDiff(maskSecretLines(group.diff), limits) })) });
  }
  for (const [kind, heading] of [['keepalived', 'Director configs (keepalived.conf)'], ['zone', 'Zone files']] as const) {
    const files = details.files.filter((file) => file.kind === kind);
    if (files.length === 0) continue;
    const { shown, more } = bounded(files, limits.maxItems);
    result.push({
      heading,
      note: LIVE_NOTE,
      noun: 'files',
      more,
      blocks: shown.map((file) => ({
        title: `${file.name}: ${file.error ? 'cannot be rendered' : file.after === '' ? 'no longer rendered' : file.before === '' ? 'new file' : 'changes'} ${file.error ? '' : countChanges(file.diff)}`.trimEnd(),
        lines: file.error ? [`! ${file.error}`] : cutDiff(file.diff!, limits),
      })),
    });
  }
  return result;
}

/** A code fence longer than any run of backticks inside, so no value can close it early. */
function fence(lines: readonly string[]): string {
  const longest = Math.max(2, ...lines.map((line) => Math.max(0, ...(line.match(/`+/g) ?? []).map((run) => run.length))));
  return '`'.repeat(longest + 1);
}

export function detailsMarkdown(details: PlanDetails, limits: OutputLimits = DEFAULT_LIMITS): string[] {
  const lines: string[] = [];
  for (const section of sections(details, limits)) {
    lines.push('', `#### ${section.heading}`);
    if (section.note) lines.push('', section.note);
    for (const block of section.blocks) {
      const marks = fence(block.lines);
      lines.push('', `<details${block.open ? ' open' : ''}><summary>${block.title}</summary>`, '', `${marks}diff`, ...block.lines, marks, '</details>');
    }
    if (section.more > 0) lines.push('', `… ${section.more} more ${section.noun}`);
  }
  return lines;
}

export function detailsText(details: PlanDetails, limits: OutputLimits = DEFAULT_LIMITS): string[] {
  const lines: string[] = [];
  for (const section of sections(details, limits)) {
    lines.push('', `== ${section.heading}${section.note ? ` (${section.note})` : ''}`);
    // Diffs stay unindented: they can be copied out as patches.
    for (const block of section.blocks) lines.push('', `${block.title}`, ...block.lines);
    if (section.more > 0) lines.push('', `… ${section.more} more ${section.noun}`);
  }
  return lines;
}
