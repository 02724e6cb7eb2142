// Service-tree tags: `cop.xiaomi_owt.miliao_pdl.im_cluster.production-lg_service.mipush_job.x`,
// a chain of `level.value` pairs joined by `_`, levels in a fixed order.

export const TAG_LEVELS = ['cop', 'owt', 'pdl', 'cluster', 'servicegroup', 'service', 'job'] as const;
export type TagLevel = (typeof TAG_LEVELS)[number];

/** Levels that may be skipped in a chain. */
const OPTIONAL_LEVELS: ReadonlySet<TagLevel> = new Set(['servicegroup']);

const VALUE_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export interface TagSegment {
  readonly level: TagLevel;
  readonly value: string;
}

export type ParsedTag = readonly TagSegment[];

export class TagSyntaxError extends Error {
  readonly code = 'E_TAG_SYNTAX';
  constructor(
    readonly tag: string,
    readonly reason: string,
  ) {
    super(`invalid tag "${tag}": ${reason}`);
    this.name = 'TagSyntaxError';
  }
}

function levelIndex(level: string): number {
  return (TAG_LEVELS as readonly string[]).indexOf(level);
}

/** Parses a tag, enforcing level order: it starts at `cop` and may skip only optional levels. */
export function parseTag(tag: string): ParsedTag {
  if (tag === '') throw new TagSyntaxError(tag, 'empty');
  const segments: TagSegment[] = [];
  let expected = 0;
  for (const pair of tag.split('_')) {
    const dot = pair.indexOf('.');
    if (dot <= 0) throw new TagSyntaxError(tag, `"${pair}" is not a level.value pair`);
    const level = pair.slice(0, dot);
    const value = pair.slice(dot + 1);
    const index = levelIndex(level);
    if (index < 0) throw new TagSyntaxError(tag, `unknown level "${level}" (levels: ${TAG_LEVELS.join(' > ')})`);
    if (!VALUE_PATTERN.test(value)) {
      throw new TagSyntaxError(tag, `value "${value}" of level ${level} must be lowercase letters, digits and inner hyphens`);
    }
    if (index < expected) throw new TagSyntaxError(tag, `level ${level} is out of order or repeated`);
    for (let skipped = expected; skipped < index; skipped++) {
      const missing = TAG_LEVELS[skipped]!;
      if (!OPTIONAL_LEVELS.has(missing)) throw new TagSyntaxError(tag, `level ${missing} is missing before ${level}`);
    }
    segments.push({ level: level as TagLevel, value });
    expected = index + 1;
  }
  return segments;
}

export function formatTag(segments: ParsedTag): string {
  return segments.map((segment) => `${segment.level}.${segment.value}`).join('_');
}

/** The tag itself and every ancestor, nearest first: `a_b_c` → [`a_b_c`, `a_b`, `a`]. */
export function selfAndAncestors(tag: string): string[] {
  const chain = [tag];
  for (let cut = tag.lastIndexOf('_'); cut > 0; cut = tag.lastIndexOf('_', cut - 1)) {
    chain.push(tag.slice(0, cut));
  }
  return chain;
}

export function parentTag(tag: string): string | undefined {
  const cut = tag.lastIndexOf('_');
  return cut > 0 ? tag.slice(0, cut) : undefined;
}

/** The value of one level, e.g. `tagLevelValue(tag, 'job')`. */
export function tagLevelValue(tag: string, level: TagLevel): string | undefined {
  const prefix = `${level}.`;
  for (const pair of tag.split('_')) if (pair.startsWith(prefix)) return pair.slice(prefix.length);
  return undefined;
}

export function isAncestorOrSelf(ancestor: string, tag: string): boolean {
  return tag === ancestor || tag.startsWith(`${ancestor}_`);
}

/**
 * A compiled tag pattern. Without wildcards it selects a node and its descendants (prefix match at
 * level boundaries); `*` matches any run of characters and `?` one character, and a pattern
 * selects every tag whose self-or-ancestor it matches, so `cop.xiaomi_owt.miliao_*` selects every
 * node below miliao (not miliao itself) and `*_job.alias-*` every job named alias-*.
 */
export function compileTagPattern(pattern: string): (tag: string) => boolean {
  if (!/[*?]/.test(pattern)) return (tag) => isAncestorOrSelf(pattern, tag);
  const source = pattern
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  const regex = new RegExp(`^${source}$`);
  return (tag) => selfAndAncestors(tag).some((candidate) => regex.test(candidate));
}

/** The labels a job's series and scrape targets carry: `job` (its name) and the levels above it. */
export const JOB_TREE_LABELS = ['job', ...TAG_LEVELS.filter((level) => level !== 'job')] as const;
export type JobTreeLabel = (typeof JOB_TREE_LABELS)[number];

/**
 * A job's labels, `job` first, then the levels its tag names (levels it skips are left out), so a
 * dashboard, an alert or a scrape config can select by tree node. The tag's job level is the job's
 * name (the loader checks it): not repeated. Lenient, unlike parseTag: a reader labelling what it
 * observes must not fail on a garbled tag.
 */
export function jobTreeLabels(job: string, tag: string | undefined): Partial<Record<JobTreeLabel, string>> {
  const labels: Partial<Record<JobTreeLabel, string>> = { job };
  for (const level of TAG_LEVELS) {
    const value = level === 'job' || tag === undefined ? undefined : tagLevelValue(tag, level);
    if (value !== undefined && value !== '') labels[level as JobTreeLabel] = value;
  }
  return labels;
}
