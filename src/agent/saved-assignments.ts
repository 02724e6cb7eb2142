// The assignment each running instance was started from, kept under ROOT/run/<job>.assignment.json:
// a restarted agent adopts what runs from these before it reaches etcd (fail static), and the last
// good spec survives a wipe of etcd.
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../repo/write-file-atomic.js';
import { isAssignmentRecord } from '../store/record-checks.js';
import type { AssignmentRecord } from '../store/records.js';
import { jobPaths } from './agent-layout.js';

const SUFFIX = '.assignment.json';

function savedPath(root: string, job: string): string {
  return jobPaths(root, job).pidFile.replace(/\.json$/, SUFFIX);
}

export function saveAssignment(root: string, assignment: AssignmentRecord): Promise<void> {
  return writeFileAtomic(savedPath(root, assignment.job), JSON.stringify(assignment));
}

export function forgetAssignment(root: string, job: string): Promise<void> {
  return rm(savedPath(root, job), { force: true });
}

/** Every saved assignment that still reads as one (a torn or foreign file is skipped). */
export async function readSavedAssignments(root: string): Promise<AssignmentRecord[]> {
  const runDir = path.dirname(savedPath(root, 'x'));
  const names = await readdir(runDir).catch(() => [] as string[]);
  const saved: AssignmentRecord[] = [];
  for (const name of names.filter((file) => file.endsWith(SUFFIX))) {
    const record = await readFile(path.join(runDir, name), 'utf8').then(
      (text) => JSON.parse(text) as unknown,
      () => undefined,
    );
    if (isAssignmentRecord(record)) saved.push(record);
  }
  return saved;
}
