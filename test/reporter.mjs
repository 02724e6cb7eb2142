// @ts-check
// The test reporter of `npm test` (node --test --test-reporter=./test/reporter.mjs): one line per
// test file, every failure in full as it happens (the error, its stack, the test's file:line:col),
// what the tests print, a list of the failures again at the end, and last a plain count:
// `714 passed, 0 failed, 0 skipped`. Plain JavaScript because Node 20 loads reporters before the
// --import hooks that would let it read TypeScript.
import path from 'node:path';
import { inspect } from 'node:util';

/** Node's own closing diagnostics ("tests 714", "pass 714", …): replaced by the count line. */
const SUMMARY_DIAGNOSTIC = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) [\d.]+$/;

/** @param {string | undefined} file */
const relative = (file) => (file ? path.relative(process.cwd(), file) : '(no file)');

/** @param {number} ms */
const seconds = (ms) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

/** @param {string} text @param {string} indent */
const indented = (text, indent) => text.replace(/^/gm, indent);

/**
 * @typedef {{ name: string, nesting: number, file?: string, line?: number, column?: number, skip?: unknown, todo?: unknown,
 *   details: { duration_ms: number, type?: string, error?: Error & { failureType?: string, cause?: unknown } } }} TestResult
 * @typedef {{ passed: number, failed: number, skipped: number }} Counts
 */

/** @param {AsyncIterable<{ type: string, data: any }>} source */
export default async function* reporter(source) {
  /** @type {Counts} */
  const total = { passed: 0, failed: 0, skipped: 0 };
  /** @type {Map<string, Counts>} */
  const perFile = new Map();
  /** @type {Map<string, string[]>} the names of the tests running in each file, by nesting */
  const running = new Map();
  /** @type {string[]} */
  const failures = [];
  /** @type {Map<string, number>} files whose own process failed: their line waits for that failure (it comes after) */
  const closing = new Map();

  /**
   * Where it failed: the first line of the stack in the test's file, else where the test is declared
   * (under tsx that declaration's line and column point into the compiled code; the stack is mapped).
   * @param {TestResult} test
   */
  const location = (test) => {
    const stack = String(/** @type {any} */ (test.details.error?.cause)?.stack ?? '');
    const frame = test.file ? stack.split('\n').map((line) => line.match(/\(?(?:file:\/\/)?(\/[^():]+):(\d+):(\d+)\)?$/)).find((match) => match?.[1] === test.file) : undefined;
    return frame ? `${relative(test.file)}:${frame[2]}:${frame[3]}` : `${relative(test.file)}:${test.line}:${test.column}`;
  };
  /** @param {TestResult} test */
  const title = (test) => {
    const at = location(test);
    if (test.name === test.file) return at; // the file itself (its process, a file-level hook), not a test in it
    const names = [...(running.get(test.file ?? '') ?? []).slice(0, test.nesting), test.name];
    return `${at} › ${names.join(' › ')}`;
  };
  /** @param {string | undefined} file */
  const countsOf = (file) => {
    const key = file ?? '';
    if (!perFile.has(key)) perFile.set(key, { passed: 0, failed: 0, skipped: 0 });
    return /** @type {Counts} */ (perFile.get(key));
  };
  /** @param {string} file @param {number} durationMs */
  const fileLine = (file, durationMs) => {
    const { passed, failed, skipped } = countsOf(file);
    return `${failed > 0 ? '✖' : '✔'} ${relative(file)}  ${passed} passed${failed ? `, ${failed} failed` : ''}${skipped ? `, ${skipped} skipped` : ''}  ${seconds(durationMs)}\n`;
  };
  /** @param {string | undefined} file @param {keyof Counts} outcome */
  const count = (file, outcome) => {
    total[outcome]++;
    countsOf(file)[outcome]++;
  };

  for await (const { type, data } of source) {
    switch (type) {
      case 'test:start': {
        const names = running.get(data.file ?? '') ?? [];
        names.length = data.nesting;
        names.push(data.name);
        running.set(data.file ?? '', names);
        break;
      }
      case 'test:pass':
        if (data.details.type === 'suite') break;
        count(data.file, data.skip !== undefined || data.todo !== undefined ? 'skipped' : 'passed');
        break;
      case 'test:fail': {
        const error = data.details.error;
        // A parent whose subtest failed: that subtest was reported in full already.
        if (error?.failureType === 'subtestsFailed') {
          if (data.details.type !== 'suite') count(data.file, 'failed');
          break;
        }
        if (data.details.type !== 'suite') count(data.file, 'failed');
        const what = title(data);
        if (error?.failureType === 'cancelledByParent') {
          failures.push(`${what} (cancelled)`);
          yield `✖ cancelled ${what}\n`;
          break;
        }
        failures.push(what);
        // The error as thrown (with its stack and, for assertions, the diff); the wrapper only says "test failed".
        const thrown = error?.cause ?? error;
        const shown = thrown === 'test failed' ? 'the test file did not run to its end: what it printed is above' : inspect(thrown, { depth: 4 });
        yield `\n✖ FAIL ${what} (${seconds(data.details.duration_ms)})\n${indented(shown, '    ')}\n\n`;
        const durationMs = closing.get(data.file);
        if (durationMs !== undefined) {
          closing.delete(data.file);
          yield fileLine(data.file, durationMs);
        }
        break;
      }
      case 'test:complete':
        // The file's own entry (its process) closes it: one progress line per file.
        if (data.nesting === 0 && data.name === data.file) {
          running.delete(data.file);
          if (data.details.passed || data.details.error?.failureType === 'subtestsFailed') yield fileLine(data.file, data.details.duration_ms);
          else closing.set(data.file, data.details.duration_ms);
        }
        break;
      case 'test:diagnostic':
        if (!SUMMARY_DIAGNOSTIC.test(data.message)) yield `ℹ ${data.message}\n`;
        break;
      case 'test:stdout':
      case 'test:stderr':
        yield data.message;
        break;
      default:
        break;
    }
  }
  if (failures.length > 0) yield `\nFailed:\n${failures.map((what) => `  ✖ ${what}\n`).join('')}`;
  yield `\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`;
}
