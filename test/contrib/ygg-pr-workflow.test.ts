// The pull-request workflow in contrib/github/ygg-pr.yml, its steps run for real: the validate and
// plan steps' bash scripts in a workspace laid out as the workflow checks it out (fleet/, ygg/), and
// the comment step's script against a recording stand-in for GitHub's API (which cannot be reached
// from here): it must create one comment, then update that one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { createGitFleet } from '../fixtures/git-fleet.js';
import { edit } from '../fixtures/small-fleet.js';

interface Step {
  readonly name?: string;
  readonly run?: string;
  readonly env?: Record<string, string>;
  readonly with?: { readonly script?: string };
  readonly if?: string;
}

const workflow = parse(readFileSync(new URL('../../contrib/github/ygg-pr.yml', import.meta.url), 'utf8')) as { on: unknown; permissions: Record<string, string>; jobs: { plan: { steps: Step[] } } };
const steps = workflow.jobs.plan.steps;
const step = (name: string): Step => steps.find((candidate) => candidate.name === name) ?? assert.fail(`no step "${name}"`);

const workspace = mkdtempSync(path.join(tmpdir(), 'ygg-pr-workflow-'));
after(() => rmSync(workspace, { recursive: true, force: true }));
// ygg/bin/ygg.js as the workflow runs it, here from this checkout's sources.
mkdirSync(path.join(workspace, 'ygg', 'bin'), { recursive: true });
writeFileSync(path.join(workspace, 'ygg', 'package.json'), '{ "type": "module" }\n');
writeFileSync(path.join(workspace, 'ygg', 'bin', 'ygg.js'), `import ${JSON.stringify(new URL('../fixtures/ygg-from-source.ts', import.meta.url).href)};\n`);
mkdirSync(path.join(workspace, 'fleet'));
const fleet = createGitFleet(path.join(workspace, 'fleet'));
const base = fleet.commit('Mark lvs host', edit('hosts.yaml', 'labels: { idc: a } }', 'labels: { idc: a, role: lvs } }'));
const head = fleet.commit('Debug logging and a token', edit('jobs/frontend.yaml', 'env: { MODE: production }', 'env: { MODE: debug, UPSTREAM_TOKEN: tok-123456 }'));

/** Runs a step's script as GitHub's default shell does (bash -e -o pipefail) with the workflow's expressions filled in. */
function runStep(name: string, shas: { base: string; head: string }): { code: number; stdout: string; summary: string } {
  const summary = path.join(workspace, 'summary.md');
  writeFileSync(summary, '');
  const env = { ...process.env, NODE_OPTIONS: `--import ${path.dirname(fileURLToPath(import.meta.resolve('tsx')))}/loader.mjs`, BASE_SHA: shas.base, HEAD_SHA: shas.head, GITHUB_STEP_SUMMARY: summary };
  const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step(name).run!], { cwd: workspace, env, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status ?? -1, stdout: result.stdout, summary: readFileSync(summary, 'utf8') };
}

describe('contrib/github/ygg-pr.yml', () => {
  it('runs on pull requests with a token that can only read code and write PR comments; expressions reach scripts through env only', () => {
    assert.deepEqual(workflow.on, { pull_request: null });
    assert.deepEqual(workflow.permissions, { contents: 'read', 'pull-requests': 'write' });
    for (const { run } of steps) assert.doesNotMatch(run ?? '', /\$\{\{/, 'a ${{ }} inside run: is script injection waiting to happen');
  });

  it('validate: a valid head passes silently; a broken one fails with GitHub annotations at file, line and column', () => {
    const ok = runStep('Validate the head commit', { base, head });
    assert.equal(ok.code, 0, ok.stdout);
    const broken = fleet.commit('Break it', edit('services.yaml', 'job: frontend', 'job: backend'));
    const failed = runStep('Validate the head commit', { base, head: broken });
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /^::error file=services\.yaml,line=5,col=8,title=E_REF_JOB::unknown job "backend"/m);
  });

  it('plan: writes the markdown plan with its marker to plan.md and the job summary, the token masked', () => {
    const run = runStep('Plan base → head', { base, head });
    assert.equal(run.code, 0);
    const plan = readFileSync(path.join(workspace, 'plan.md'), 'utf8');
    assert.match(plan, new RegExp(`^### ygg plan ${base.slice(0, 12)} → ${head.slice(0, 12)}\n`));
    assert.match(plan, /^\+ env\.UPSTREAM_TOKEN: ••••$/m);
    assert.ok(!plan.includes('tok-123456'));
    assert.ok(plan.trimEnd().endsWith('<!-- ygg-plan -->'));
    assert.equal(run.summary, plan);
    assert.equal(run.stdout, '', 'nothing of the plan in the log');
  });

  it('plan: a head that cannot be planned still gives a comment, with the findings', () => {
    const broken = fleet.commit('Break it again', edit('services.yaml', 'port: http', 'port: nope'));
    assert.equal(runStep('Plan base → head', { base, head: broken }).code, 0);
    const plan = readFileSync(path.join(workspace, 'plan.md'), 'utf8');
    assert.match(plan, new RegExp(`^### ygg plan: head ${broken.slice(0, 12)} cannot be planned\n\n\`\`\`\nservices\\.yaml:6:9: job frontend has no port named "nope"`));
  });

  it('comment: creates one comment, then updates that same comment on the next push', async () => {
    const script = step('Post or update the plan comment').with!.script!;
    const calls: { method: string; args: Record<string, unknown> }[] = [];
    const existing: { id: number; user: { type: string }; body: string }[] = [{ id: 7, user: { type: 'User' }, body: 'LGTM <!-- ygg-plan -->' }];
    const record = (method: string) => async (args: Record<string, unknown>) => {
      calls.push({ method, args });
      if (method === 'createComment') existing.push({ id: 42, user: { type: 'Bot' }, body: String(args.body) });
    };
    const github = {
      rest: { issues: { listComments: 'listComments', createComment: record('createComment'), updateComment: record('updateComment') } },
      paginate: async () => existing,
    };
    const context = { repo: { owner: 'acme', repo: 'fleet' }, payload: { pull_request: { number: 5 } } };
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<void>;
    const run = new AsyncFunction('require', 'github', 'context', script);
    const cwd = process.cwd();
    process.chdir(workspace);
    try {
      await run(createRequire(import.meta.url), github, context);
      await run(createRequire(import.meta.url), github, context);
    } finally {
      process.chdir(cwd);
    }
    assert.deepEqual(calls.map(({ method, args }) => [method, args.issue_number ?? args.comment_id]), [['createComment', 5], ['updateComment', 42]]);
    assert.equal(calls[1]!.args.body, readFileSync(path.join(workspace, 'plan.md'), 'utf8'));
  });
});
