// A unified diff as plans show it: the ---/+++ header and hunks with 3 lines of context; an absent
// side is /dev/null.
import { createTwoFilesPatch } from 'diff';

export function unifiedDiff(path: string, before: string | undefined, after: string | undefined): string {
  const patch = createTwoFilesPatch(before === undefined ? '/dev/null' : `a/${path}`, after === undefined ? '/dev/null' : `b/${path}`, before ?? '', after ?? '', undefined, undefined, { context: 3 });
  // Drop the "Index:"/"===" preamble.
  return patch.slice(patch.indexOf('---')).trimEnd();
}
