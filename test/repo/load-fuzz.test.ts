// Fuzzes the loader with mutated example-repo files and random documents (see load-fuzz-worker.ts).
// A bounded number of cases runs with the suite; more with YGG_FUZZ_RUNS=N, a given run again with
// YGG_FUZZ_SEED=N (printed by every run).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FuzzMessage, FuzzOptions } from './load-fuzz-worker.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNS = Number(process.env['YGG_FUZZ_RUNS'] ?? 300);
/** A fixed seed by default, so a run in CI is reproducible; any other explores new cases. */
const SEED = Number(process.env['YGG_FUZZ_SEED'] ?? 20261128);
/** No single case may take longer: a case that does has hung the loader. */
const CASE_TIMEOUT_MS = 10_000;

const scratch = mkdtempSync(path.join(tmpdir(), 'ygg-fuzz-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The worker module from the TypeScript sources: register tsx there first (workers do not inherit it). */
function startFuzzWorker(options: FuzzOptions): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = new URL('./load-fuzz-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: options });
}

describe('loader fuzzing', () => {
  it(`loads ${RUNS} mutated and random repos: never throws or hangs, always a model or located errors (seed ${SEED})`, { timeout: RUNS * CASE_TIMEOUT_MS }, async () => {
    const caseFile = path.join(scratch, 'case.json');
    const worker = startFuzzWorker({ runs: RUNS, seed: SEED, exampleRepo: path.join(ROOT, 'example-repo'), caseFile });
    const outcome = await new Promise<{ done?: number; failure?: string; hung?: number }>((resolve, reject) => {
      let current = 0;
      let watchdog: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => resolve({ hung: current }), CASE_TIMEOUT_MS);
      };
      arm();
      worker.on('message', (message: FuzzMessage) => {
        if ('started' in message) {
          current = message.started;
          arm();
          return;
        }
        clearTimeout(watchdog);
        resolve(message);
      });
      worker.on('error', (error) => {
        clearTimeout(watchdog);
        reject(error);
      });
    });
    await worker.terminate();
    const reproduce = `YGG_FUZZ_SEED=${SEED} YGG_FUZZ_RUNS=${RUNS}`;
    if (outcome.hung !== undefined) {
      const { file, text } = JSON.parse(readFileSync(caseFile, 'utf8')) as { file: string; text: string };
      assert.fail(`case ${outcome.hung} took over ${CASE_TIMEOUT_MS} ms (${reproduce}); ${file}: ${JSON.stringify(text.slice(0, 400))}`);
    }
    if (outcome.failure !== undefined) assert.fail(`${outcome.failure}\n(${reproduce})`);
    assert.ok(outcome.done! >= RUNS, `${outcome.done} cases ran`);
  });
});
