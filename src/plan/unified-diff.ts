// A unified diff as plans show it: the ---/+++ header and hunks with 3 lines of context; an absent
// side is /dev/null. Myers' diff costs O(lines × edits): two large files that differ a lot (a
// director config going from 100 to 5,000 real servers) would take seconds, so past MAX_EDITS the
// diff falls back to the lines only one side has, in order, under a hunk header saying so.
import { createTwoFilesPatch } from 'diff';

const MAX_EDITS = 1000;

export function unifiedDiff(path: string, before: string | undefined, after: string | undefined): string {
  const oldName = before === undefined ? '/dev/null' : `a/${path}`;
  const newName = after === undefined ? '/dev/null' : `b/${path}`;
  const patch = createTwoFilesPatch(oldName, newName, before ?? '', after ?? '', undefined, undefined, { context: 3, maxEditLength: MAX_EDITS });
  // Drop the "Index:"/"===" preamble.
  if (patch !== undefined) return patch.slice(patch.indexOf('---')).trimEnd();
  return [`--- ${oldName}`, `+++ ${newName}`, ...lineChanges(before ?? '', after ?? '')].join('\n');
}

/** Lines (each distinct text once) only the old side has, then only the new side has. */
function lineChanges(before: string, after: string): string[] {
  const oldLines = before.split('\n');
  const newLines = after.split('\n');
  const inOld = new Set(oldLines);
  const inNew = new Set(newLines);
  const only = (lines: string[], other: Set<string>, mark: string) => [...new Set(lines.filter((line) => !other.has(line)))].map((line) => mark + line);
  return [`@@ over ${MAX_EDITS} edits (${oldLines.length} → ${newLines.length} lines): the distinct lines only one side has @@`, ...only(oldLines, inNew, '-'), ...only(newLines, inOld, '+')];
}
