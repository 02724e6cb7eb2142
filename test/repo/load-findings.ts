// Loads the small fleet with some files changed, as `ygg validate` would, and gives its findings
// as printed lines; the helper the loader's check tests share.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { formatFinding } from '../../src/repo/finding.js';
import { RepoLoader, type LoadResult } from '../../src/repo/load-repo.js';
import { createSchemaValidator } from '../../src/repo/schema-validator.js';
import { WorkingTreeSource } from '../../src/repo/working-tree-source.js';
import { removeDir, writeFleet } from '../fixtures/small-fleet.js';

const validator = createSchemaValidator();
const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

export async function loadFleet(changes: Record<string, string | null>): Promise<LoadResult> {
  const dir = writeFleet(changes);
  dirs.push(dir);
  return new RepoLoader(validator).load(await new WorkingTreeSource(dir).snapshot());
}

export async function findingsOf(changes: Record<string, string | null>): Promise<string[]> {
  return (await loadFleet(changes)).findings.map(formatFinding);
}

/** Exactly these findings, in any order; an expectation starting with `^` is a regular expression. */
export async function assertFindings(changes: Record<string, string | null>, expected: readonly string[]): Promise<void> {
  const findings = await findingsOf(changes);
  assert.equal(findings.length, expected.length, `got:\n${findings.join('\n')}`);
  expected.forEach((expectation, index) => {
    const matched = findings.some((finding) => finding === expectation || (expectation.startsWith('^') && new RegExp(expectation).test(finding)));
    assert.ok(matched, `expected #${index} ${expectation}\ngot:\n${findings.join('\n')}`);
  });
}
