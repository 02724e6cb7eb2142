// Faults of the controller: SIGKILLed at random points of rollouts (and started again at once, as
// systemd would), and the leader frozen (SIGSTOP) past its lease while a standby waits.
import { sleep, waitUntil } from '../fixtures/controller-harness.js';
import { currentRevision, doubledAssignWrites, runScenario, syncCurrentRegressions, type Scenario, type TrialLog } from './scenario-run.js';
import type { ChaosFleet } from './chaos-fleet.js';

/** A rollout over the three hosts (one at a time, each until its first passing health check) takes about this long. */
const ROLLOUT_SPAN_MS = 6000;

/** Writes a restarted or deposed controller must not make: an assignment twice, sync/current backwards. */
async function reportStaleWrites(fleet: ChaosFleet, log: TrialLog, fromRevision: number): Promise<void> {
  const doubled = await doubledAssignWrites(fleet.reader, fromRevision);
  if (doubled.length > 0) log.violation(`${doubled.length} assignment writes repeated: ${doubled.slice(0, 3).join('; ')}`);
  const regressions = await syncCurrentRegressions(fleet.reader, fromRevision);
  if (regressions.length > 0) log.violation(`${regressions.length} sync/current writes went backwards: ${regressions.slice(0, 3).join('; ')}`);
}

export const controllerKilled: Scenario = {
  name: 'controller-killed',
  promise: 'The controller SIGKILLed at random points of a rollout (20 trials, reduced: 3; each names its kill point) and started again: the rollout continues where etcd says, no instance is rolled twice or skipped, no assignment is written twice.',
  run: (reduced) =>
    runScenario({ name: 'controller-killed', reduced }, async (fleet, log) => {
      const trials = reduced ? 3 : 20;
      const fromRevision = await currentRevision(fleet.reader);
      for (let trial = 1; trial <= trials; trial++) {
        // Spread over the rollout: early trials kill early, later ones late, each with jitter.
        const delayMs = Math.round(((trial - 1 + Math.random()) / trials) * ROLLOUT_SPAN_MS);
        await log.trial(`trial ${trial}: killed ${delayMs} ms into the rollout`, async () => {
          fleet.repo.roll(trial);
          await sleep(delayMs);
          await fleet.controllers.get('ctl-a')!.kill();
          await fleet.startController('ctl-a');
        });
      }
      await reportStaleWrites(fleet, log, fromRevision);
    }),
};

export const leaderFrozen: Scenario = {
  name: 'leader-frozen',
  promise: 'The leading controller frozen with SIGSTOP for 20 s, then SIGCONT, a second controller standing by and a commit landing meanwhile: the standby takes over within the lease and rolls the commit out; the thawed leader writes nothing stale.',
  run: (reduced) =>
    runScenario({ name: 'leader-frozen', reduced }, async (fleet, log) => {
      const frozenMs = 20_000;
      await fleet.startController('ctl-b');
      await waitUntil(() => fleet.book.events('ctl-b', 'controller_started').length > 0, 'the standby controller started', 20_000);
      const fromRevision = await currentRevision(fleet.reader);
      const leader = fleet.controllers.get('ctl-a')!;
      await log.trial(`leader frozen ${frozenMs / 1000} s`, async () => {
        leader.signal('SIGSTOP');
        await sleep(1000);
        fleet.repo.roll(1);
        await sleep(frozenMs - 1000);
        leader.signal('SIGCONT');
      });
      if (fleet.book.events('ctl-b', 'elected').length === 0) log.violation('the standby never took over from the frozen leader');
      await reportStaleWrites(fleet, log, fromRevision);
    }),
};
