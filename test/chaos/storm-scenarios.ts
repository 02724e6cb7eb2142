// A storm of commits, a third of them invalid, pushed faster than rollouts finish.
import { sleep } from '../fixtures/controller-harness.js';
import { PREFIX } from './chaos-fleet.js';
import { parseJson } from './etcd-reader.js';
import { runScenario, type Scenario } from './scenario-run.js';

export const commitStorm: Scenario = {
  name: 'commit-storm',
  promise: '200 commits in 60 s (reduced: 30 in 15 s), every third one invalid, the others new job generations and changes that touch no instance: each invalid commit is rejected whole, no instance is lost or restarted beyond the rollouts, and the fleet converges on the newest commit.',
  run: (reduced) =>
    runScenario({ name: 'commit-storm', reduced }, async (fleet, log) => {
      const commits = reduced ? 30 : 200;
      const spanMs = reduced ? 15_000 : 60_000;
      let invalid = 0;
      await log.trial(`${commits} commits in ${spanMs / 1000} s`, async () => {
        const startMs = Date.now();
        for (let serial = 1; serial <= commits; serial++) {
          // Counted from the end, so the newest commit is a valid generation the fleet must reach.
          const kind = (commits - serial) % 3;
          if (kind === 0) fleet.repo.roll(1000 + serial);
          else if (kind === 1) fleet.repo.commitHarmless(serial);
          else {
            fleet.repo.commitInvalid(serial);
            invalid++;
          }
          await sleep(Math.max(0, startMs + (serial * spanMs) / commits - Date.now()));
        }
      }, { timeoutMs: reduced ? 60_000 : 120_000 });
      log.note(`${invalid} of ${commits} commits invalid`);
      const current = parseJson((await fleet.reader.range(`${PREFIX}/sync/current`)).values.get(`${PREFIX}/sync/current`)) as { rejected?: unknown } | undefined;
      if (current?.rejected !== undefined) log.violation('sync/current still shows a rejected commit although the newest is valid');
    }),
};
