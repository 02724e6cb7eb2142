// The reporter `npm test` uses, on small test files written here: a line per file, each failure with
// its error and location, and a plain count as the last line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

const REPORTER = path.resolve(import.meta.dirname, 'reporter.mjs');
const dir = mkdtempSync(path.join(tmpdir(), 'ygg-reporter-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `node --test` with the reporter on the given files (name → source), in a fresh dir. */
function runWithReporter(files: Record<string, string>): { status: number | null; lines: string[] } {
  for (const [name, source] of Object.entries(files)) writeFileSync(path.join(dir, name), source);
  // NODE_TEST_CONTEXT, set by the runner running this file, would make the inner runner report to it.
  const { NODE_TEST_CONTEXT: _outer, ...env } = process.env;
  const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', `--test-reporter=${REPORTER}`, ...Object.keys(files)], { cwd: dir, encoding: 'utf8', env });
  return { status: result.status, lines: result.stdout.trimEnd().split('\n') };
}

/** How the reporter writes a duration: `87 ms`, `2.4 s`. */
const DURATION = String.raw`(?:\d+ ms|\d+\.\d s)`;
const HEADER = "import assert from 'node:assert/strict';\nimport { test } from 'node:test';\n";

test('failures come with their error and file:line:col, passes with one line per file, and the last line is the count', () => {
  const { status, lines } = runWithReporter({
    'fine.test.mjs': `${HEADER}test('adds', () => assert.equal(1 + 1, 2));\ntest('later', { skip: 'not yet' }, () => {});\n`,
    'broken.test.mjs': `${HEADER}test('outer', async (t) => {\n  await t.test('inner ok', () => {});\n  await t.test('inner wrong', () => assert.equal(6 * 7, 41));\n});\n`,
  });
  const output = lines.join('\n');
  assert.equal(status, 1);
  assert.equal(lines.at(-1), '2 passed, 2 failed, 1 skipped', output);
  assert.match(output, new RegExp(`^✖ FAIL broken\\.test\\.mjs:5:44 › outer › inner wrong \\(${DURATION}\\)$`, 'm'));
  assert.match(output, /AssertionError \[ERR_ASSERTION\]: Expected values to be strictly equal:\n[\s\S]*42 !== 41/);
  assert.match(output, /at .*broken\.test\.mjs:5:44/, 'the stack points into the test file');
  assert.match(output, new RegExp(`^✔ fine\\.test\\.mjs {2}${DURATION}$`, 'm'));
  assert.match(output, new RegExp(`^✖ broken\\.test\\.mjs {2}${DURATION}$`, 'm'));
  assert.match(output, /^Failed:\n {2}✖ broken\.test\.mjs:5:44 › outer › inner wrong$/m);
  assert.doesNotMatch(output, /TAP version|# Subtest|^ok \d/m, 'no TAP');
});

test('a file that dies before its tests run is a failure, with what it printed', () => {
  const { status, lines } = runWithReporter({ 'dies.test.mjs': `${HEADER}throw new Error('no such fixture');\n` });
  const output = lines.join('\n');
  assert.equal(status, 1);
  assert.match(output, /Error: no such fixture/);
  assert.match(output, /^✖ FAIL dies\.test\.mjs:1:1/m);
  assert.equal(lines.at(-1), '0 passed, 1 failed, 0 skipped');
});

test('an all-green run ends with the count and exits 0', () => {
  const { status, lines } = runWithReporter({ 'green.test.mjs': `${HEADER}for (const n of [1, 2, 3]) test(\`case \${n}\`, () => assert.ok(n > 0));\n` });
  assert.equal(status, 0);
  assert.deepEqual(lines.slice(-2), ['', '3 passed, 0 failed, 0 skipped']);
  assert.equal(lines.length, 3, lines.join('\n'));
});
