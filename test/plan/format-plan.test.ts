import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Action, Plan } from '../../src/plan/compute-plan.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { formatPlan, summarizePlan } from '../../src/plan/format-plan.js';
import { CLUSTER_TAG, desiredState, host, job, model, treeNode } from '../fixtures/model-builder.js';

const BASE_SHA = '0123456789abcdef0123456789abcdef01234567';
const HEAD_SHA = 'fedcba9876543210fedcba9876543210fedcba98';
const HEADER = { base: BASE_SHA, head: HEAD_SHA };

const CONFIG_DIFF = '--- a/conf/app.yaml\n+++ b/conf/app.yaml\n@@ -1,2 +1,2 @@\n listen: 10.0.0.1:8080\n-workers: 4\n+workers: 8';

const update = (host: string, diff = CONFIG_DIFF): Action => ({
  type: 'instance.update',
  host,
  job: 'api',
  fromVersion: '1.0.0',
  version: '1.0.0',
  changes: ['configs'],
  configDiffs: [{ path: 'conf/app.yaml', diff }],
});

/** One action of every type, in plan order. */
const MIXED: Plan = {
  actions: [
    { type: 'instance.add', host: 'h3', job: 'api', version: '1.1.0' },
    { type: 'instance.update', host: 'h1', job: 'api', fromVersion: '1.0.0', version: '1.1.0', changes: ['version', 'env'], configDiffs: [] },
    update('h2'),
    { type: 'instance.remove', host: 'h9', job: 'old', version: '0.1.0' },
    { type: 'vip.add', service: 'new-svc', vip: '10.1.100.11:80/TCP' },
    { type: 'vip.update', service: 'api-svc', vip: '10.1.100.10:80/TCP', changes: ['lbAlgo', 'port'] },
    { type: 'vip.remove', service: 'old-svc', vip: '10.1.100.12:80/TCP' },
    { type: 'director.update', director: 'lvs1', services: ['api-svc', 'new-svc'] },
  ],
};

const MIXED_LINES = [
  '+ api on h3 (version 1.1.0)',
  '~ api on h1: 1.0.0 → 1.1.0; changed version, env',
  '~ api on h2: changed configs',
  '- old on h9 (version 0.1.0)',
  '+ vip 10.1.100.11:80/TCP for new-svc',
  '~ vip 10.1.100.10:80/TCP for api-svc: changed lbAlgo, port',
  '- vip 10.1.100.12:80/TCP for old-svc',
  '~ director lvs1: keepalived.conf changes (api-svc, new-svc)',
];

const MIXED_SUMMARY = 'Instances: 1 to add, 2 to update, 1 to remove. VIPs: 3 changed. Director configs: 1 to re-render.';

const count = (text: string, part: string) => text.split(part).length - 1;

test('summarizePlan counts every action type, zeros included', () => {
  assert.deepEqual(summarizePlan(MIXED), {
    'instance.add': 1,
    'instance.update': 2,
    'instance.remove': 1,
    'vip.add': 1,
    'vip.update': 1,
    'vip.remove': 1,
    'director.update': 1,
  });
  assert.deepEqual(Object.values(summarizePlan({ actions: [] })), [0, 0, 0, 0, 0, 0, 0]);
});

test('text: header with short SHAs, summary line, one +/~/- line per action, then the config diffs section', () => {
  assert.equal(
    formatPlan(MIXED, HEADER, 'text'),
    ['Plan 0123456789ab → fedcba987654', MIXED_SUMMARY, '', ...MIXED_LINES, '', '== Config files', '', 'api: config diff on h2', CONFIG_DIFF].join('\n'),
  );
});

test('text: an empty plan says so, and an absent base is shown as (empty)', () => {
  assert.equal(
    formatPlan({ actions: [] }, { head: HEAD_SHA }, 'text'),
    ['Plan (empty) → fedcba987654', 'Instances: 0 to add, 0 to update, 0 to remove. VIPs: 0 changed. Director configs: 0 to re-render.', 'No changes.'].join('\n'),
  );
});

test('markdown: a heading, the summary, the actions in a ```diff block inside <details>, and each config diff', () => {
  const text = formatPlan(MIXED, HEADER, 'markdown');
  assert.equal(
    text,
    [
      '### ygg plan 0123456789ab → fedcba987654',
      '',
      MIXED_SUMMARY,
      '',
      '<details open><summary>Actions</summary>',
      '',
      '```diff',
      ...MIXED_LINES,
      '```',
      '</details>',
      '',
      '#### Config files',
      '',
      '<details><summary>api: config diff on h2</summary>',
      '',
      '```diff',
      CONFIG_DIFF,
      '```',
      '</details>',
    ].join('\n'),
  );
});

test('markdown: an empty plan has no actions block', () => {
  const text = formatPlan({ actions: [] }, { head: HEAD_SHA }, 'markdown');
  assert.ok(text.startsWith('### ygg plan (empty) → fedcba987654\n'));
  assert.ok(!text.includes('```'));
  assert.ok(!text.includes('<details'));
});

test('json: parses, with base, head, summary and the actions unchanged', () => {
  const parsed = JSON.parse(formatPlan(MIXED, HEADER, 'json')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed), ['base', 'head', 'summary', 'actions']);
  assert.equal(parsed.base, BASE_SHA);
  assert.equal(parsed.head, HEAD_SHA);
  assert.deepEqual(parsed.summary, summarizePlan(MIXED));
  assert.deepEqual(parsed.actions, MIXED.actions);
  const empty = JSON.parse(formatPlan({ actions: [] }, { head: HEAD_SHA }, 'json')) as Record<string, unknown>;
  assert.equal(empty.base, null);
  assert.deepEqual(empty.actions, []);
});

test('an identical config diff on many hosts is shown once, naming the first five hosts and how many more', () => {
  const hosts = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7'];
  const plan: Plan = { actions: hosts.map((host) => update(host)) };
  for (const format of ['text', 'markdown'] as const) {
    const text = formatPlan(plan, HEADER, format);
    assert.equal(count(text, '-workers: 4'), 1, format);
    assert.equal(count(text, 'config diff on'), 1, format);
    assert.ok(text.includes('api: config diff on h1, h2, h3, h4, h5 and 2 more'), format);
    assert.equal(count(text, '~ api on h'), 7, format);
  }
});

test('different config diffs are grouped separately, each with its own hosts', () => {
  const other = CONFIG_DIFF.replace('listen: 10.0.0.1:8080', 'listen: 10.0.0.2:8080');
  const plan: Plan = { actions: [update('h1'), update('h2', other), update('h3'), update('h4', other)] };
  const text = formatPlan(plan, HEADER, 'text');
  assert.equal(count(text, 'config diff on'), 2);
  assert.ok(text.includes(`api: config diff on h1, h3\n${CONFIG_DIFF}`), text);
  assert.ok(text.includes(`api: config diff on h2, h4\n${other}`), text);
});

test('the same diff text in two jobs is two groups', () => {
  const plan: Plan = { actions: [update('h1'), { ...(update('h1') as Extract<Action, { type: 'instance.update' }>), job: 'web' }] };
  const text = formatPlan(plan, HEADER, 'text');
  assert.ok(text.includes('api: config diff on h1\n'));
  assert.ok(text.includes('web: config diff on h1\n'));
});

test('a computed plan: a template change on six hosts shows six ~ lines and its rendered diff once', () => {
  const hosts = ['w1', 'w2', 'w3', 'w4', 'w5', 'w6'].map((name, index) => host(name, { ip: `10.0.0.${index + 1}` }));
  const build = (threads: number) =>
    model({
      hosts,
      treeNodes: [treeNode(CLUSTER_TAG, { hosts: hosts.map((item) => item.name) })],
      jobs: [job('worker', { ports: { admin: 9000 }, configs: [{ path: 'conf/worker.yaml', template: `admin: {{ports.admin}}\nthreads: ${threads}\n` }] })],
    });
  const base = desiredState(build(2));
  const plan = computePlan(base, desiredState(build(4), base.placement));
  const text = formatPlan(plan, HEADER, 'text');
  assert.ok(text.includes('Instances: 0 to add, 6 to update, 0 to remove. VIPs: 0 changed. Director configs: 0 to re-render.'), text);
  assert.equal(count(text, '~ worker on w'), 6);
  assert.ok(text.includes('~ worker on w1: changed configs'));
  assert.equal(count(text, 'config diff on'), 1);
  assert.ok(text.includes('worker: config diff on w1, w2, w3, w4, w5 and 1 more'));
  assert.equal(count(text, '\n-threads: 2'), 1);
  assert.equal(count(text, '\n+threads: 4'), 1);
  assert.equal(count(text, '\n admin: 9000'), 1);
});
