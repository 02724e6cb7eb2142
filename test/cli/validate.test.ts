import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createGitFleet } from '../fixtures/git-fleet.js';
import { edit, removeDir, writeFleet } from '../fixtures/small-fleet.js';
import { runCli } from './run-cli.js';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

describe('ygg validate', () => {
  it('passes the bundled example repo', async () => {
    const result = await runCli('validate', '--repo', 'example-repo');
    assert.equal(result.code, 0, result.stdout);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /example-repo: \d+ documents in \d+ files, 0 error\(s\), 0 warning\(s\)/);
  });

  it('prints one line per problem and exits 1', async () => {
    const dir = writeFleet({ ...edit('services.yaml', 'job: frontend', 'job: nope'), 'extra.yaml': 'kind: [' });
    dirs.push(dir);
    const result = await runCli('validate', '--repo', dir);
    assert.equal(result.code, 1);
    const lines = result.stdout.split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^extra\.yaml:1:\d+: /);
    assert.equal(lines[1], 'services.yaml:5:8: unknown job "nope" (no Job document has that name)');
    assert.match(result.stderr, /2 error\(s\)/);
  });

  it('gives the same findings as JSON and as GitHub annotations', async () => {
    const dir = writeFleet(edit('jobs/search.yaml', 'http: 8090', 'http: 8080'));
    dirs.push(dir);
    const json = await runCli('validate', '--repo', dir, '--output', 'json');
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout);
    assert.equal(report.valid, false);
    assert.equal(report.findings.length, 1);
    assert.deepEqual({ ...report.findings[0], message: undefined }, { code: 'E_PORT_CLASH', severity: 'error', file: 'jobs/search.yaml', line: 10, col: 18, message: undefined });
    const github = await runCli('validate', '--repo', dir, '--format', 'github');
    assert.equal(github.code, 1);
    assert.match(github.stdout, /^::error file=jobs\/search\.yaml,line=10,col=18,title=E_PORT_CLASH::port 8080 clashes with port "http" of job frontend/);
  });

  it('validates a commit without checking it out', async () => {
    const fleet = createGitFleet();
    dirs.push(fleet.dir);
    const good = fleet.commit('Bump search', edit('jobs/search.yaml', 'version: 2.1.0', 'version: 2.2.0'));
    fleet.commit('Break the service', edit('services.yaml', 'port: http', 'port: grpc'));
    assert.equal((await runCli('validate', '--repo', fleet.dir, '--ref', good)).code, 0);
    const broken = await runCli('validate', '--repo', fleet.dir, '--ref', 'HEAD');
    assert.equal(broken.code, 1);
    assert.equal(broken.stdout, 'services.yaml:6:9: job frontend has no port named "grpc" (ports: http)');
    assert.equal((await runCli('validate', '--repo', fleet.dir, '--ref', 'HEAD~1')).code, 0);
    assert.equal((await runCli('validate', '--repo', fleet.dir, '--ref', good.slice(0, 8))).code, 0);
  });

  it('--strict fails on warnings', async () => {
    const selectorNode = 'apiVersion: ygg/v1\nkind: TreeNode\nmetadata: { tag: cop.acme_owt.shop_pdl.batch }\nspec: { selector: { idc: z } }\n';
    const dir = writeFleet({ 'tree2.yaml': selectorNode });
    dirs.push(dir);
    const lenient = await runCli('validate', '--repo', dir);
    assert.equal(lenient.code, 0);
    assert.equal(lenient.stdout, 'tree2.yaml:4:19: warning: selector matches no host');
    assert.equal((await runCli('validate', '--repo', dir, '--strict')).code, 1);
  });
});

describe('ygg validate on a folder that is no fleet repo fails', () => {
  it('no YAML at all: exit 1, not "0 documents in 0 files" and green', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'ygg-empty-'));
    dirs.push(empty);
    writeFileSync(path.join(empty, 'README.md'), '# not a fleet\n');
    const result = await runCli('validate', '--repo', empty);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "ygg.yaml:1:1: no YAML files here: a fleet repo has ygg.yaml with a Repo document (apiVersion: ygg/v1, kind: Repo, spec: {}) at its root and the fleet's documents beside it; is this the fleet's folder?");
    assert.match(result.stderr, /0 documents in 0 files, 1 error\(s\)/);
  });

  it('YAML but no ygg.yaml: exit 1, naming what is missing', async () => {
    const dir = writeFleet({ 'ygg.yaml': null });
    dirs.push(dir);
    const result = await runCli('validate', '--repo', dir, '--output', 'json');
    assert.equal(result.code, 1);
    const report = JSON.parse(result.stdout);
    assert.equal(report.valid, false);
    assert.deepEqual(report.findings.map((finding: { code: string; file: string; line: number }) => [finding.code, finding.file, finding.line]), [['E_NO_REPO_CONFIG', 'ygg.yaml', 1]]);
    assert.match(report.findings[0].message, /^no ygg\.yaml at the repo root: a fleet repo declares itself there with a Repo document/);
  });

  it('a ygg.yaml without a Repo document: exit 1', async () => {
    const dir = writeFleet({ 'ygg.yaml': 'apiVersion: ygg/v1\nkind: Host\nmetadata: { name: extra }\nspec: { ip: 10.0.0.99 }\n' });
    dirs.push(dir);
    const result = await runCli('validate', '--repo', dir);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, 'ygg.yaml:1:1: ygg.yaml holds no Repo document: put a Repo document (apiVersion: ygg/v1, kind: Repo, spec: {}) in it');
  });
});

describe('usage errors exit 2 with one clear line', () => {
  const cases: [string, string[], RegExp][] = [
    ['a repo path that does not exist', ['validate', '--repo', '/nonexistent/fleet'], /^ygg validate: repo path "\/nonexistent\/fleet" does not exist$/m],
    ['a git ref that does not exist', ['validate', '--repo', 'example-repo', '--ref', 'no-such-branch'], /^ygg validate: git ref "no-such-branch" not found in /m],
    ['an unknown flag', ['validate', '--colour'], /^ygg validate: unknown option '--colour'/m],
    ['a flag missing its value', ['validate', '--repo'], /^ygg validate: option '-r, --repo <value>' argument missing$/m],
    ['a bad output format', ['validate', '--output', 'xml'], /^ygg validate: --output must be one of text, json, github, got "xml"$/m],
    ['an unexpected argument', ['tree', 'extra'], /^ygg tree: unexpected argument "extra"$/m],
    ['an unknown command', ['deploy'], /^ygg: unknown command "deploy"$/m],
    ['a bad limit', ['history', '--limit', '0'], /^ygg history: --limit must be a positive integer, got "0"$/m],
    ['a bad log level', ['render', 'keepalived', '--director', 'lvs-1', '--out', '/tmp/ygg-never-written.conf', '--log-level', 'loud'], /^ygg render: --log-level must be one of debug, info, warn, error, got "loud"$/m],
    ['a bad listen address', ['controller', '--repo', '.', '--listen', 'nowhere:port'], /^ygg controller: --listen: /m],
  ];
  for (const [name, argv, expected] of cases) {
    it(name, async () => {
      const result = await runCli(...argv);
      assert.equal(result.code, 2);
      assert.match(result.stderr, expected);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    });
  }

  it('every command has --help', async () => {
    const overview = await runCli('--help');
    assert.equal(overview.code, 0);
    const commands = [...overview.stdout.matchAll(/^ {2}([a-z]+) /gm)].map((match) => match[1]!);
    assert.deepEqual(commands, ['validate', 'plan', 'tree', 'hosts', 'history', 'controller', 'agent', 'status', 'blame', 'render', 'resolve', 'dev', 'secret']);
    for (const command of commands) {
      const help = await runCli(command, '--help');
      assert.equal(help.code, 0);
      assert.match(help.stdout, new RegExp(`^Usage: ygg ${command}`));
      assert.match(help.stdout, /--help/);
    }
  });
});
