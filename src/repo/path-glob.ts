// Globs over repo paths, as ygg.yaml's `spec.paths` and `spec.ignore` use them: `*` and `?` stay
// within one folder name, `**` spans folders, `{a,b}` is either. A pattern that names a folder
// covers everything below it, as in .gitignore: `test` and `test/` both mean `test/**`.
// Patterns come from the repo, so a hostile commit writes them: matching takes time proportional to
// pattern × path length (no regular expressions that backtrack exponentially).

/** At most this many patterns after expanding `{a,b}` alternatives, per glob. */
const MAX_EXPANSIONS = 64;

function expandBraces(glob: string): string[] {
  const open = glob.indexOf('{');
  const close = open < 0 ? -1 : glob.indexOf('}', open);
  if (close < 0) return [glob];
  const head = glob.slice(0, open);
  const expanded: string[] = [];
  for (const tail of expandBraces(glob.slice(close + 1))) {
    for (const choice of glob.slice(open + 1, close).split(',')) {
      if (expanded.length < MAX_EXPANSIONS) expanded.push(head + choice + tail);
    }
  }
  return expanded;
}

/** `*` and `?` within one name: greedy, backtracking only to the last `*` (linear in practice). */
function nameMatches(name: string, pattern: string): boolean {
  let at = 0;
  let from = 0;
  let star = -1;
  let starAt = 0;
  while (at < name.length) {
    if (from < pattern.length && (pattern[from] === '?' || pattern[from] === name[at])) {
      at++;
      from++;
    } else if (from < pattern.length && pattern[from] === '*') {
      star = from++;
      starAt = at;
    } else if (star >= 0) {
      from = star + 1;
      at = ++starAt;
    } else {
      return false;
    }
  }
  while (pattern[from] === '*') from++;
  return from === pattern.length;
}

/** Segment by segment; `**` takes zero or more names; a pattern used up early covers what is below. */
function pathMatches(names: readonly string[], segments: readonly string[]): boolean {
  const known = new Map<number, boolean>();
  const match = (name: number, segment: number): boolean => {
    if (segment === segments.length) return true;
    const key = name * (segments.length + 1) + segment;
    const cached = known.get(key);
    if (cached !== undefined) return cached;
    let result: boolean;
    if (segments[segment] === '**') result = match(name, segment + 1) || (name < names.length && match(name + 1, segment));
    else result = name < names.length && nameMatches(names[name]!, segments[segment]!) && match(name + 1, segment + 1);
    known.set(key, result);
    return result;
  };
  return match(0, 0);
}

/** A matcher for repo paths (`/`-separated, relative) against `globs`. */
export function globMatcher(globs: readonly string[]): (path: string) => boolean {
  const patterns = globs
    .flatMap(expandBraces)
    .map((glob) => glob.replace(/^(\.?\/)+/, '').replace(/\/+$/, ''))
    .map((glob) => glob.split('/').filter((segment) => segment !== ''));
  return (path) => {
    const names = path.split('/');
    return patterns.some((segments) => pathMatches(names, segments));
  };
}
