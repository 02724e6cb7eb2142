// @ts-check
// The test reporter of `npm test` (node --test --test-reporter=./test/reporter.mjs): a line per test
// file as it ends, every failure in full (the error with its stack, where it failed), what the
// tests print, the failures listed again at the end, and last a plain count:
// `714 passed, 0 failed, 0 skipped`. Plain JavaScript because Node 20 loads reporters before the
// --import hooks that would let it read TypeScript.
//
// Files run two at a time, but Node reports one file's tests after another's: a file's own end
// (its process exiting) comes at once, its tests' results may come later. So the line per file
// says how the file ended, and the counts are made from the results.
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
 * @typedef {{ name: string, nesting: number, file?: string, line?: number, column?: number,
 *   details: { duration_ms: number, type?: string, error?: Error & { failureType?: string, cause?: unknown } } }} TestResult
 */

/**
 * Where it failed: the first line of the stack in the test's file, else where the test is declared
 * (under tsx that declaration's line and column point into the compiled code; stacks are mapped).
 * @param {TestResult} test
 */
function location(test) {
  const stack = String(/** @type {{ stack?: unknown } | undefined} */ (test.details.error?.cause)?.stack ?? '');
  const frames = stack.split('\n').map((line) => /\(?(?:file:\/\/)?(\/[^():]+):(\d+):(\d+)\)?$/.exec(line));
  const frame = test.file ? frames.find((match) => match?.[1] === test.file) : undefined;
  return frame ? `${relative(test.file)}:${frame[2]}:${frame[3]}` : `${relative(test.file)}:${test.line}:${test.column}`;
}

/** @param {AsyncIterable<{ type: string, data: any }>} source */
export default async function* reporter(source) {
  const total = { passed: 0, failed: 0, skipped: 0 };
  /** @type {Map<string, string[]>} per file, the names of the tests being reported, by nesting */
  const names = new Map();
  /** @type {string[]} */
  const failures = [];

  /** @param {TestResult} test */
  const title = (test) => {
    if (test.name === test.file) return location(test); // the file itself (its process, a file-level hook), not a test in it
    return `${location(test)} › ${[...(names.get(test.file ?? '') ?? []).slice(0, test.nesting), test.name].join(' › ')}`;
  };

  for await (const { type, data } of source) {
    switch (type) {
      case 'test:start': {
        const enclosing = names.get(data.file ?? '') ?? [];
        enclosing.length = data.nesting;
        enclosing.push(data.name);
        names.set(data.file ?? '', enclosing);
        break;
      }
      case 'test:pass':
        if (data.details.type !== 'suite') total[data.skip !== undefined || data.todo !== undefined ? 'skipped' : 'passed']++;
        break;
      case 'test:fail': {
        if (data.todo !== undefined) {
          total.skipped++; // a todo test may fail: that fails nothing
          break;
        }
        if (data.details.type !== 'suite') total.failed++;
        const error = data.details.error;
        // A parent whose subtest failed: that subtest is reported in full.
        if (error?.failureType === 'subtestsFailed') break;
        const what = title(data);
        if (error?.failureType === 'cancelledByParent') {
          failures.push(`${what} (cancelled)`);
          yield `✖ cancelled ${what}\n`;
          break;
        }
        failures.push(what);
        // The error as thrown (its stack and, for assertions, the diff); a file's process that failed only says "test failed".
        const thrown = error?.cause ?? error;
        const shown = thrown === 'test failed' ? 'the test file did not run to its end: what it printed is above' : inspect(thrown, { depth: 4 });
        yield `\n✖ FAIL ${what} (${seconds(data.details.duration_ms)})\n${indented(shown, '    ')}\n\n`;
        break;
      }
      case 'test:complete':
        if (data.nesting === 0 && data.name === data.file) yield `${data.details.passed ? '✔' : '✖'} ${relative(data.file)}  ${seconds(data.details.duration_ms)}\n`;
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
  // Cancelled tests count as failed (they fail the run), todo tests as skipped.
  yield `\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`;
}
