import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatFinding } from '../../src/repo/finding.js';
import { GitSource } from '../../src/repo/git-source.js';
import { RepoLoader } from '../../src/repo/load-repo.js';
import { globMatcher } from '../../src/repo/path-glob.js';
import { createSchemaValidator } from '../../src/repo/schema-validator.js';
import { WorkingTreeSource } from '../../src/repo/working-tree-source.js';
import { runCli } from '../cli/run-cli.js';
import { edit, removeDir, SMALL_FLEET, writeFleet } from '../fixtures/small-fleet.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const validator = createSchemaValidator();
const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ygg-layout-'));
  dirs.push(dir);
  return dir;
}

function write(dir: string, files: Record<string, string>): void {
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  }
}

async function load(dir: string) {
  const result = await new RepoLoader(validator).load(await new WorkingTreeSource(dir).snapshot());
  return { ...result, lines: result.findings.map(formatFinding) };
}

const POINTER = 'apiVersion: ygg/v1\nkind: Repo\nspec:\n  root: fleet\n';
/** YAML that is not fleet YAML: what a project's test data or CI config looks like to the loader. */
const NOT_FLEET = { 'test/fixtures/broken.yaml': 'kind: [\n', 'ci/pipeline.yaml': 'stages: [build, test]\n' };

/** A project whose fleet lives in fleet/ beside other YAML. */
function project(fleetChanges: Record<string, string | null> = {}, pointer = POINTER): string {
  const dir = tempDir();
  writeFleet(fleetChanges, path.join(dir, 'fleet'));
  write(dir, { 'ygg.yaml': pointer, ...NOT_FLEET });
  return dir;
}

describe('spec.root: a repo says which folder its fleet lives in', () => {
  it('loads the folder as if it were the repo, and nothing else', async () => {
    const dir = project();
    const fromTop = await load(dir);
    assert.deepEqual(fromTop.lines, []);
    const direct = await load(path.join(dir, 'fleet'));
    assert.deepEqual(fromTop.model!.config, direct.model!.config);
    assert.deepEqual([...fromTop.model!.jobs.keys()], [...direct.model!.jobs.keys()]);
    // The same model either way: origins and artifact paths are relative to the fleet's folder.
    assert.deepEqual(fromTop.model!.jobs.get('frontend')!.origin, { file: 'jobs/frontend.yaml', docIndex: 0 });
    assert.equal(fromTop.stats.files, direct.stats.files);
  });

  it('reports problems at paths from the top, where the user runs the command', async () => {
    const dir = project({ ...edit('jobs/search.yaml', 'version: 2.1.0', 'version: 2.1'), ...edit('hosts.yaml', 'name: lvs-a1', 'name: web-a1') });
    const { lines } = await load(dir);
    assert.deepEqual(lines.filter((line) => !line.includes('lvs-a1')), [
      'fleet/hosts.yaml:23:19: duplicate host "web-a1": already declared in fleet/hosts.yaml',
      'fleet/jobs/search.yaml:7:12: spec.version must be a string, found number 2.1: quote it ("2.1")',
    ]);
  });

  it('keeps the pointer a pointer: settings and documents belong in the fleet', async () => {
    const dir = project({}, `${POINTER}  pruneGuard: { maxDeletePercent: 10 }\n---\napiVersion: ygg/v1\nkind: Host\nmetadata: { name: stray }\nspec: { ip: 10.9.9.9 }\n`);
    assert.deepEqual((await load(dir)).lines, [
      'ygg.yaml:5:3: with spec.root, ygg.yaml only points at the fleet: move pruneGuard to fleet/ygg.yaml',
      'ygg.yaml:7:1: with spec.root, ygg.yaml only points at the fleet: move this Host under fleet/',
    ]);
  });

  it('refuses a folder that is not there and a root inside the root', async () => {
    const missing = project({}, POINTER.replace('root: fleet', 'root: flet'));
    assert.deepEqual((await load(missing)).lines, ['ygg.yaml:4:9: folder "flet" does not exist or holds no files']);
    const nested = project({ 'ygg.yaml': 'apiVersion: ygg/v1\nkind: Repo\nspec: { root: jobs }\n' });
    assert.deepEqual((await load(nested)).lines, ['fleet/ygg.yaml:3:15: spec.root belongs in the top-level ygg.yaml only']);
    const escape = project({}, POINTER.replace('root: fleet', 'root: ../etc'));
    assert.equal((await load(escape)).findings[0]?.code, 'E_SCHEMA');
  });

  it("applies the fleet's own limits, and names its ygg.yaml", async () => {
    const dir = project({ 'ygg.yaml': `${SMALL_FLEET['ygg.yaml']}  limits: { maxFiles: 2 }\n`, 'big.yaml': `${'#'.repeat(2 * 1024 * 1024)}\n` });
    assert.deepEqual((await load(dir)).lines, ['fleet/ygg.yaml:1:1: the fleet has 7 YAML files, over the 2 limit (spec.limits.maxFiles in fleet/ygg.yaml)']);
    const oversized = project({ 'big.yaml': `${'#'.repeat(2 * 1024 * 1024)}\n` });
    assert.deepEqual((await load(oversized)).lines, ['fleet/big.yaml:1:1: file is 2.0 MiB, over the 1 MiB limit (spec.limits.maxFileBytes in fleet/ygg.yaml)']);
  });

  it('with a broken ygg.yaml, says only that: which files are the fleet is unknown', async () => {
    const dir = project({}, 'apiVersion: ygg/v1\nkind: Repo\nspec: { rot: fleet }\n');
    const { lines } = await load(dir);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^ygg\.yaml:3:9: spec: unknown field "rot"; did you mean "root"\?/);
  });
});

describe('spec.paths and spec.ignore: which files are fleet YAML', () => {
  it('reads only the files the globs select, and ygg.yaml always', async () => {
    const config = `${SMALL_FLEET['ygg.yaml']}  paths: ["*.yaml", "jobs/**"]\n  ignore: [jobs/old, "**/*.draft.yaml"]\n`;
    const dir = writeFleet({ 'ygg.yaml': config, 'jobs/old/gone.yaml': 'kind: [\n', 'jobs/next.draft.yaml': 'not: fleet\n', 'docs/example.yaml': 'apiVersion: v1\n' });
    dirs.push(dir);
    const { lines, model, stats } = await load(dir);
    assert.deepEqual(lines, []);
    assert.equal(stats.files, 6);
    assert.equal(model!.config.pruneGuard.maxDeletePercent, 50);

    const narrow = writeFleet({ 'ygg.yaml': `${SMALL_FLEET['ygg.yaml']}  paths: [jobs]\n` });
    dirs.push(narrow);
    // The fleet's own settings are read even though the globs leave ygg.yaml out.
    const loaded = await load(narrow);
    assert.equal(loaded.stats.files, 3);
    assert.match(loaded.lines.join('\n'), /unknown host|no TreeNode|tree node/i);
  });

  it('matches globs by path segment', () => {
    const matches = (globs: string[], file: string) => globMatcher(globs)(file);
    assert.equal(matches(['jobs/**'], 'jobs/a/b.yaml'), true);
    assert.equal(matches(['jobs'], 'jobs/a/b.yaml'), true);
    assert.equal(matches(['jobs/'], 'jobsx/b.yaml'), false);
    assert.equal(matches(['*.yaml'], 'a.yaml'), true);
    assert.equal(matches(['*.yaml'], 'dir/a.yaml'), false);
    assert.equal(matches(['**/*.yaml'], 'a.yaml'), true);
    assert.equal(matches(['**/*.yaml'], 'x/y/a.yaml'), true);
    assert.equal(matches(['x/**/a.yaml'], 'x/a.yaml'), true);
    assert.equal(matches(['{hosts,jobs}/*.yam?'], 'jobs/a.yaml'), true);
    assert.equal(matches(['{hosts,jobs}/*.yam?'], 'tree/a.yaml'), false);
    assert.equal(matches(['./hosts'], 'hosts/a.yaml'), true);
    // Time proportional to pattern × path: a pattern written to backtrack does not hang.
    const started = performance.now();
    assert.equal(matches([`${'*a'.repeat(60)}b`], 'a'.repeat(200)), false);
    assert.ok(performance.now() - started < 500);
  });
});

describe("this project's own root", () => {
  it('is a repo whose fleet is example-repo/: validate --repo . loads it and nothing else', async () => {
    const result = await runCli('validate', '--repo', ROOT);
    assert.equal(result.code, 0, result.stdout);
    const direct = await runCli('validate', '--repo', path.join(ROOT, 'example-repo'));
    const summary = (text: string) => /\d+ documents in \d+ files, .*/.exec(text)?.[0];
    assert.equal(summary(result.stderr), summary(direct.stderr));
  });

  it('runs the README examples as printed in a clone: validate --ref origin/main, plan --base origin/main --head HEAD', async () => {
    const upstream = tempDir();
    cpSync(path.join(ROOT, 'example-repo'), path.join(upstream, 'example-repo'), { recursive: true });
    cpSync(path.join(ROOT, 'ygg.yaml'), path.join(upstream, 'ygg.yaml'));
    write(upstream, NOT_FLEET);
    const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' });
    git(upstream, 'init', '-q', '-b', 'main');
    git(upstream, 'add', '-A');
    git(upstream, 'commit', '-qm', 'project');
    const clone = path.join(tempDir(), 'clone');
    git(upstream, 'clone', '-q', upstream, clone);
    const job = path.join(clone, 'example-repo/jobs/miliao/push-sender.yaml');
    write(clone, { 'example-repo/jobs/miliao/push-sender.yaml': execFileSync('cat', [job], { encoding: 'utf8' }).replace(/version: .*/, 'version: 9.9.9') });
    git(clone, 'commit', '-qam', 'bump push-sender');

    const validate = await runCli('validate', '--repo', clone, '--ref', 'origin/main');
    assert.equal(validate.code, 0, validate.stdout);
    const plan = await runCli('plan', '--repo', clone, '--base', 'origin/main', '--head', 'HEAD');
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /push-sender/);
    assert.doesNotMatch(plan.stdout + plan.stderr, /error/i);
    const current = new GitSource(clone);
    const result = await new RepoLoader(validator).load(await current.snapshot('HEAD'));
    assert.equal(result.model!.jobs.get('push-sender')!.spec.version, '9.9.9');
  });
});
