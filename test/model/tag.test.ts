import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTagPattern, formatTag, isAncestorOrSelf, parentTag, parseTag, selfAndAncestors, tagLevelValue, TagSyntaxError } from '../../src/model/tag.js';

const JOB_TAG = 'cop.xiaomi_owt.miliao_pdl.im_cluster.production-lg_service.mipush_job.alias-job-dispatcher';
const GROUPED_TAG = 'cop.xiaomi_owt.miliao_pdl.im_cluster.production-lg_servicegroup.push_service.mipush_job.x1';

/** Asserts parseTag rejects the tag with a TagSyntaxError whose reason matches. */
function assertRejected(tag: string, reason: RegExp) {
  assert.throws(
    () => parseTag(tag),
    (error: unknown) => {
      assert.ok(error instanceof TagSyntaxError, `expected TagSyntaxError, got ${String(error)}`);
      assert.equal(error.code, 'E_TAG_SYNTAX');
      assert.equal(error.tag, tag);
      assert.match(error.reason, reason);
      assert.ok(error.message.includes(`"${tag}"`));
      return true;
    },
  );
}

test('parseTag splits a full tag into its levels in order, skipping the optional servicegroup', () => {
  assert.deepEqual(parseTag(JOB_TAG), [
    { level: 'cop', value: 'xiaomi' },
    { level: 'owt', value: 'miliao' },
    { level: 'pdl', value: 'im' },
    { level: 'cluster', value: 'production-lg' },
    { level: 'service', value: 'mipush' },
    { level: 'job', value: 'alias-job-dispatcher' },
  ]);
});

test('parseTag accepts the optional servicegroup when present', () => {
  assert.deepEqual(
    parseTag(GROUPED_TAG).map((segment) => segment.level),
    ['cop', 'owt', 'pdl', 'cluster', 'servicegroup', 'service', 'job'],
  );
  assert.equal(parseTag(GROUPED_TAG)[4]!.value, 'push');
});

test('parseTag accepts a prefix of the chain (a tree node above the jobs)', () => {
  assert.deepEqual(parseTag('cop.xiaomi'), [{ level: 'cop', value: 'xiaomi' }]);
  assert.deepEqual(parseTag('cop.xiaomi_owt.miliao_pdl.im_cluster.c1_servicegroup.g'), [
    { level: 'cop', value: 'xiaomi' },
    { level: 'owt', value: 'miliao' },
    { level: 'pdl', value: 'im' },
    { level: 'cluster', value: 'c1' },
    { level: 'servicegroup', value: 'g' },
  ]);
});

test('parseTag accepts digits and inner hyphens in values', () => {
  assert.deepEqual(parseTag('cop.a1_owt.b-2-c'), [
    { level: 'cop', value: 'a1' },
    { level: 'owt', value: 'b-2-c' },
  ]);
  assert.deepEqual(parseTag('cop.7'), [{ level: 'cop', value: '7' }]);
});

test('parseTag rejects an empty tag', () => {
  assertRejected('', /empty/);
});

test('parseTag rejects an unknown level', () => {
  assertRejected('cop.xiaomi_team.miliao', /unknown level "team"/);
  assertRejected('company.xiaomi', /unknown level "company"/);
});

test('parseTag rejects levels out of order', () => {
  assertRejected('cop.xiaomi_owt.miliao_pdl.im_cluster.c_service.s_job.x_cluster.y', /level cluster is out of order or repeated/);
  assertRejected('cop.xiaomi_owt.miliao_pdl.im_cluster.c_service.s_servicegroup.g', /level servicegroup is out of order or repeated/);
});

test('parseTag rejects a repeated level', () => {
  assertRejected('cop.xiaomi_cop.other', /level cop is out of order or repeated/);
  assertRejected('cop.xiaomi_owt.a_owt.b', /level owt is out of order or repeated/);
});

test('parseTag rejects a skipped non-optional level', () => {
  assertRejected('cop.xiaomi_owt.miliao_cluster.c', /level pdl is missing before cluster/);
  assertRejected('owt.miliao', /level cop is missing before owt/);
  // servicegroup may be skipped, service may not.
  assertRejected('cop.xiaomi_owt.miliao_pdl.im_cluster.c_job.x', /level service is missing before job/);
});

test('parseTag rejects bad values', () => {
  assertRejected('cop.Xiaomi', /value "Xiaomi" of level cop/);
  assertRejected('cop.xiaomi_owt.mi liao', /value "mi liao"/);
  assertRejected('cop.-xiaomi', /value "-xiaomi"/);
  assertRejected('cop.xiaomi-', /value "xiaomi-"/);
  assertRejected('cop.xiao.mi', /value "xiao.mi"/);
  assertRejected('cop.', /value "" of level cop/);
});

test('parseTag rejects an underscore inside a value: the part after it is not a pair', () => {
  assertRejected('cop.xiao_mi', /"mi" is not a level.value pair/);
});

test('parseTag rejects a pair without a dot or with an empty level', () => {
  assertRejected('cop', /"cop" is not a level.value pair/);
  assertRejected('cop.xiaomi_owt', /"owt" is not a level.value pair/);
  assertRejected('.xiaomi', /".xiaomi" is not a level.value pair/);
  assertRejected('cop.xiaomi_', /"" is not a level.value pair/);
  assertRejected('cop.xiaomi__owt.miliao', /"" is not a level.value pair/);
});

test('formatTag is the inverse of parseTag', () => {
  for (const tag of [JOB_TAG, GROUPED_TAG, 'cop.xiaomi', 'cop.a1_owt.b-2-c']) assert.equal(formatTag(parseTag(tag)), tag);
  assert.equal(formatTag([]), '');
  assert.equal(
    formatTag([
      { level: 'cop', value: 'x' },
      { level: 'owt', value: 'y' },
    ]),
    'cop.x_owt.y',
  );
});

test('selfAndAncestors lists the tag and every ancestor, nearest first', () => {
  assert.deepEqual(selfAndAncestors(JOB_TAG), [
    JOB_TAG,
    'cop.xiaomi_owt.miliao_pdl.im_cluster.production-lg_service.mipush',
    'cop.xiaomi_owt.miliao_pdl.im_cluster.production-lg',
    'cop.xiaomi_owt.miliao_pdl.im',
    'cop.xiaomi_owt.miliao',
    'cop.xiaomi',
  ]);
  assert.deepEqual(selfAndAncestors('cop.xiaomi'), ['cop.xiaomi']);
});

test('parentTag cuts the last level, and a root has no parent', () => {
  assert.equal(parentTag(JOB_TAG), 'cop.xiaomi_owt.miliao_pdl.im_cluster.production-lg_service.mipush');
  assert.equal(parentTag('cop.xiaomi_owt.miliao'), 'cop.xiaomi');
  assert.equal(parentTag('cop.xiaomi'), undefined);
});

test('tagLevelValue returns the value of one level, or undefined when the level is absent', () => {
  assert.equal(tagLevelValue(JOB_TAG, 'job'), 'alias-job-dispatcher');
  assert.equal(tagLevelValue(JOB_TAG, 'cluster'), 'production-lg');
  assert.equal(tagLevelValue(JOB_TAG, 'cop'), 'xiaomi');
  assert.equal(tagLevelValue(JOB_TAG, 'servicegroup'), undefined);
  assert.equal(tagLevelValue(GROUPED_TAG, 'servicegroup'), 'push');
  // `service.` must not match the `servicegroup.` pair.
  assert.equal(tagLevelValue('cop.a_owt.b_pdl.c_cluster.d_servicegroup.g', 'service'), undefined);
  assert.equal(tagLevelValue('cop.xiaomi', 'job'), undefined);
});

test('isAncestorOrSelf matches at level boundaries only', () => {
  assert.equal(isAncestorOrSelf(JOB_TAG, JOB_TAG), true);
  assert.equal(isAncestorOrSelf('cop.xiaomi', JOB_TAG), true);
  assert.equal(isAncestorOrSelf('cop.xiaomi_owt.miliao_pdl.im', JOB_TAG), true);
  assert.equal(isAncestorOrSelf(JOB_TAG, 'cop.xiaomi'), false);
  assert.equal(isAncestorOrSelf('cop.xiaomi_owt.mi', 'cop.xiaomi_owt.miliao'), false);
  const base = 'cop.a_owt.b_pdl.c_cluster.d_service.e';
  assert.equal(isAncestorOrSelf(`${base}_job.ab`, `${base}_job.abc`), false);
  assert.equal(isAncestorOrSelf(`${base}_job.abc`, `${base}_job.ab`), false);
  assert.equal(isAncestorOrSelf('cop.xiaomi_owt.miliao', 'cop.xiaomi_owt.miliao-ops'), false);
});

test('compileTagPattern without wildcards selects the node and its descendants', () => {
  const matches = compileTagPattern('cop.xiaomi_owt.miliao');
  assert.equal(matches('cop.xiaomi_owt.miliao'), true);
  assert.equal(matches(JOB_TAG), true);
  assert.equal(matches('cop.xiaomi_owt.miliao-ops_pdl.im'), false);
  assert.equal(matches('cop.xiaomi'), false);
  assert.equal(matches('cop.xiaomi_owt.other'), false);
});

test('compileTagPattern `prefix_*` selects the subtree below the prefix', () => {
  const matches = compileTagPattern('cop.xiaomi_owt.miliao_*');
  assert.equal(matches(JOB_TAG), true);
  assert.equal(matches('cop.xiaomi_owt.miliao_pdl.im'), true);
  assert.equal(matches('cop.xiaomi_owt.other_pdl.im'), false);
  assert.equal(matches('cop.xiaomi_owt.miliao-ops_pdl.im'), false);
  assert.equal(matches('cop.xiaomi'), false);
});

test('compileTagPattern `*_job.alias-*` selects every job named alias-*', () => {
  const matches = compileTagPattern('*_job.alias-*');
  assert.equal(matches(JOB_TAG), true);
  assert.equal(matches('cop.a_owt.b_pdl.c_cluster.d_service.e_job.alias-x'), true);
  assert.equal(matches('cop.a_owt.b_pdl.c_cluster.d_service.e_job.other'), false);
  assert.equal(matches('cop.a_owt.b_pdl.c_cluster.d_service.e_job.myalias-x'), false);
  assert.equal(matches('cop.a_owt.b_pdl.c_cluster.d_service.alias-x'), false);
});

test('compileTagPattern `*` in a middle level selects through any value of that level', () => {
  const matches = compileTagPattern('cop.xiaomi_owt.*_pdl.im');
  assert.equal(matches(JOB_TAG), true);
  assert.equal(matches('cop.xiaomi_owt.other_pdl.im'), true);
  assert.equal(matches('cop.xiaomi_owt.other_pdl.imx'), false);
});

test('compileTagPattern `?` matches exactly one character', () => {
  const matches = compileTagPattern('cop.xiaomi_owt.miliao_pdl.i?');
  assert.equal(matches('cop.xiaomi_owt.miliao_pdl.im'), true);
  assert.equal(matches(JOB_TAG), true);
  assert.equal(matches('cop.xiaomi_owt.miliao_pdl.i'), false);
  assert.equal(matches('cop.xiaomi_owt.miliao_pdl.imm'), false);
});

test('compileTagPattern treats regex metacharacters in the pattern literally', () => {
  // `.` is literal: it must not match another character.
  const dotted = compileTagPattern('cop.x*');
  assert.equal(dotted('cop.xiaomi'), true);
  assert.equal(dotted('copXxiaomi'), false);
  const grouped = compileTagPattern('cop.(a|b)+[c]$^{1}\\*');
  assert.equal(grouped('cop.(a|b)+[c]$^{1}\\'), true);
  assert.equal(grouped('cop.(a|b)+[c]$^{1}\\_owt.z'), true);
  assert.equal(grouped('cop.a'), false);
  assert.equal(grouped('cop.aa[c]'), false);
});
