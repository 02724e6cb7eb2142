import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { formatFinding } from '../../src/repo/finding.js';
import { GitSource } from '../../src/repo/git-source.js';
import { RepoLoader } from '../../src/repo/load-repo.js';
import { createSchemaValidator } from '../../src/repo/schema-validator.js';
import type { RepoSnapshot } from '../../src/repo/source.js';
import { WorkingTreeSource } from '../../src/repo/working-tree-source.js';
import { removeDir, SMALL_FLEET, writeFleet } from '../fixtures/small-fleet.js';

const validator = createSchemaValidator();
const dirs: string[] = [];
after(() => dirs.forEach(removeDir));
const MiB = 1024 * 1024;

function fleet(changes: Record<string, string | null> = {}): string {
  const dir = writeFleet(changes);
  dirs.push(dir);
  return dir;
}

async function linesOf(snapshot: RepoSnapshot): Promise<string[]> {
  return (await new RepoLoader(validator).load(snapshot)).findings.map(formatFinding);
}

const load = async (dir: string) => linesOf(await new WorkingTreeSource(dir).snapshot());
const withLimits = (limits: string) => ({ 'ygg.yaml': `${SMALL_FLEET['ygg.yaml']}  limits: { ${limits} }\n` });
const host = (index: number) => `apiVersion: ygg/v1\nkind: Host\nmetadata: { name: bulk-${index} }\nspec: { ip: 10.9.${index >> 8}.${index & 255} }\n`;

/** Peak RSS growth (MiB) and wall time of `work`; the process's peak so far is the baseline. */
async function measured<T>(work: () => Promise<T>): Promise<{ value: T; ms: number; peakGrowthMb: number }> {
  const before = process.resourceUsage().maxRSS;
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started, peakGrowthMb: (process.resourceUsage().maxRSS - before) / 1024 };
}

// First in the file: the peak RSS it measures must not be hidden by an earlier test's.
describe('a 50 MiB file is refused before it is read', () => {
  it('from a working tree and from a commit, in milliseconds, with the memory it had', { timeout: 60_000 }, async () => {
    const dir = fleet();
    // Written a mebibyte at a time: the test itself must not raise the peak it measures.
    const documents = Array.from({ length: 7000 }, (_, index) => host(index)).join('---\n');
    const chunk = `${documents}${' '.repeat(MiB - documents.length - 5)}\n---\n`;
    for (let index = 0; index < 50; index++) appendFileSync(path.join(dir, 'bulk.yaml'), chunk);
    const expected = ['bulk.yaml:1:1: file is 50.0 MiB, over the 1 MiB limit (spec.limits.maxFileBytes in ygg.yaml)'];

    const tree = await measured(() => load(dir));
    assert.deepEqual(tree.value, expected);
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir });
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-qm', 'bulk');
    const commit = await measured(async () => linesOf(await new GitSource(dir).snapshot('HEAD')));
    assert.deepEqual(commit.value, expected);
    console.log(`# 50 MiB refused: working tree ${tree.ms.toFixed(0)} ms, +${tree.peakGrowthMb.toFixed(0)} MiB peak RSS; commit ${commit.ms.toFixed(0)} ms, +${commit.peakGrowthMb.toFixed(0)} MiB`);
    for (const { ms, peakGrowthMb } of [tree, commit]) {
      assert.ok(ms < 1500, `refused in ${ms.toFixed(0)} ms`);
      assert.ok(peakGrowthMb < 40, `peak RSS grew by ${peakGrowthMb.toFixed(0)} MiB`);
    }
  });
});

describe('limits are set in ygg.yaml', () => {
  it('lets a larger file in when maxFileBytes allows it', async () => {
    const big = `${'# padding\n'.repeat(150_000)}${host(1)}`;
    assert.ok(big.length > 1.4 * MiB);
    assert.deepEqual(await load(fleet({ 'hosts/big.yaml': big })), ['hosts/big.yaml:1:1: file is 1.4 MiB, over the 1 MiB limit (spec.limits.maxFileBytes in ygg.yaml)']);
    assert.deepEqual(await load(fleet({ 'hosts/big.yaml': big, ...withLimits('maxFileBytes: 2097152') })), []);
  });

  it('refuses too many files, or too many bytes in all, and parses nothing', async () => {
    const tooMany = await new RepoLoader(validator).load(await new WorkingTreeSource(fleet(withLimits('maxFiles: 3'))).snapshot());
    assert.deepEqual(tooMany.findings.map(formatFinding), ['ygg.yaml:1:1: the fleet has 6 YAML files, over the 3 limit (spec.limits.maxFiles in ygg.yaml)']);
    assert.equal(tooMany.stats.parsed, 0);
    const padding = { 'hosts/padding.yaml': `${'#'.repeat(2000)}\n${host(1)}` };
    assert.deepEqual(await load(fleet({ ...padding, ...withLimits('maxTotalBytes: 4096') })), [
      "ygg.yaml:1:1: the fleet's YAML files add up to 4.1 KiB, over the 4 KiB limit (spec.limits.maxTotalBytes in ygg.yaml)",
    ]);
  });

  it('refuses a file with more documents than maxDocumentsPerFile, at the first one too many', async () => {
    // hosts.yaml of the small fleet has 5 documents.
    const seven = Array.from({ length: 7 }, (_, index) => host(index)).join('---\n');
    assert.deepEqual(await load(fleet({ 'hosts/seven.yaml': seven, ...withLimits('maxDocumentsPerFile: 5') })), [
      'hosts/seven.yaml:25:1: more than 5 YAML documents in one file (spec.limits.maxDocumentsPerFile in ygg.yaml)',
    ]);
    // Bare documents after an end marker (`...`) are counted once parsed.
    const bare = Array.from({ length: 7 }, (_, index) => host(index)).join('...\n');
    assert.deepEqual(await load(fleet({ 'hosts/bare.yaml': bare, ...withLimits('maxDocumentsPerFile: 5') })), [
      'hosts/bare.yaml:1:1: more than 5 YAML documents in one file (spec.limits.maxDocumentsPerFile in ygg.yaml)',
    ]);
  });
});

describe('aliases', () => {
  /** A host whose labels are one anchored value and `count` aliases of it (anchors live within one document). */
  const withAliases = (count: number) =>
    `apiVersion: ygg/v1\nkind: Host\nmetadata: { name: aliased }\nspec:\n  ip: 10.9.0.1\n  labels:\n    l0: &v x\n${Array.from({ length: count }, (_, index) => `    l${index + 1}: *v\n`).join('')}`;

  it('counts aliases before parsing, in the text that is YAML (not in quoted or block text)', async () => {
    const quoted = `${host(1)}---\n${host(2).replace('name: bulk-2', 'name: bulk-2, description: "*not &an alias"')}`;
    // 100 aliases are allowed (the schema then says labels are too many: that is another matter).
    const allowed = await load(fleet({ 'hosts/many.yaml': withAliases(100), 'hosts/quoted.yaml': quoted }));
    assert.deepEqual(allowed, ['hosts/many.yaml:7:5: spec.labels must NOT have more than 64 properties']);
    assert.deepEqual(await load(fleet({ 'hosts/many.yaml': withAliases(101) })), [
      'hosts/many.yaml:108:11: more than 100 aliases (*name) in one file (spec.limits.maxAliasesPerFile in ygg.yaml)',
    ]);
    assert.deepEqual(await load(fleet({ 'hosts/one.yaml': withAliases(1), ...withLimits('maxAliasesPerFile: 0') })), [
      'hosts/one.yaml:8:9: more than 0 aliases (*name) in one file (spec.limits.maxAliasesPerFile in ygg.yaml)',
    ]);
  });

  it('refuses a billion laughs (90 aliases, 10^9 values) in milliseconds', { timeout: 10_000 }, async () => {
    let bomb = 'apiVersion: ygg/v1\nkind: Host\nmetadata: { name: lol }\nspec:\n  ip: 10.9.9.9\n  labels:\n    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    const names = 'abcdefghi';
    for (let level = 1; level < names.length; level++) bomb += `    ${names[level]}: &${names[level]} [${Array(9).fill(`*${names[level - 1]}`).join(',')}]\n`;
    bomb += '  state: *i\n';
    const { value, ms } = await measured(() => load(fleet({ 'hosts/lol.yaml': bomb })));
    assert.deepEqual(value, ['hosts/lol.yaml:1:1: aliases expand this document to more values than the file has characters (475); write the values out instead']);
    assert.ok(ms < 2000, `refused in ${ms.toFixed(0)} ms`);
  });
});

describe('nesting', () => {
  it('refuses 100,000 levels of brackets at once, located, without recursing into them', { timeout: 10_000 }, async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
    // A mistake early in the file, before the depth: the position-keeping parser must not see the rest.
    const late = `apiVersion: ygg/v1\nkind: Host\nmetadata: { name: x }\nspec: { ip: 10.0.0.9 }\nbad: @\nlabels: ${deep}`;
    const { value, ms } = await measured(() => load(fleet({ 'hosts/deep.yaml': deep, 'hosts/late.yaml': late })));
    assert.equal(value.length, 2);
    assert.match(value[0]!, /^hosts\/deep\.yaml:1:100: nesting exceeded maxDepth \(100\)/);
    assert.match(value[1]!, /^hosts\/late\.yaml:5:6: /);
    assert.ok(ms < 3000, `refused in ${ms.toFixed(0)} ms`);
  });
});
