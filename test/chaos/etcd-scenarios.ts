// Faults of etcd itself and of what it holds: killed for a while, wiped, brought back from an older
// snapshot, assignments deleted and overwritten by hand.
import path from 'node:path';
import { sleep } from '../fixtures/controller-harness.js';
import { PREFIX } from './chaos-fleet.js';
import { JOB, WEB_HOSTS } from './chaos-repo.js';
import { runScenario, type Scenario } from './scenario-run.js';

export const etcdKilled: Scenario = {
  name: 'etcd-killed',
  promise: 'etcd SIGKILLed for 30 s (reduced: 10 s): every job keeps running untouched, keepalived.conf keeps every real server, the ygg processes stay quiet and cheap, and the fleet converges once etcd is back.',
  run: (reduced) =>
    runScenario({ name: 'etcd-killed', reduced }, async (fleet, log) => {
      const downMs = reduced ? 10_000 : 30_000;
      await log.trial(`etcd down ${downMs / 1000} s`, async () => {
        await fleet.etcd.members[0]!.kill();
        await sleep(downMs);
        await fleet.etcd.members[0]!.start();
      });
    }),
};

export const etcdWiped: Scenario = {
  name: 'etcd-wiped',
  promise: '`etcdctl del --prefix /ygg/v1` while everything runs: no job stops or restarts (a vanished assignment is not a decision), keepalived.conf keeps its real servers, and the controller writes everything back.',
  run: (reduced) =>
    runScenario({ name: 'etcd-wiped', reduced }, async (fleet, log) => {
      await log.trial('wipe', async () => {
        const deleted = await fleet.etcd.etcdctl('del', '--prefix', `${PREFIX}/`);
        log.note(`etcdctl del --prefix ${PREFIX}/ deleted ${deleted.trim()} keys`);
      });
    }),
};

export const etcdRestoredOld: Scenario = {
  name: 'etcd-restored-old',
  promise: 'etcd restored from a snapshot taken two commits (one rollout) ago, on the same client port (revision goes backwards, old assignments come back): no job goes back to the old release, keepalived.conf keeps its real servers, and the fleet converges on the newest commit.',
  run: (reduced) =>
    runScenario({ name: 'etcd-restored-old', reduced }, async (fleet, log) => {
      const snapshot = path.join(fleet.dir, 'scratch', 'old.snapshot');
      await fleet.etcd.etcdctl('snapshot', 'save', snapshot);
      fleet.repo.roll(1);
      fleet.repo.roll(2);
      const rolled = await fleet.waitConverged(60_000);
      if (rolled.ms === undefined) throw new Error(`generation 2 never rolled out: ${rolled.lastReason}`);
      await log.trial('restore the snapshot from before generations 1 and 2', () => fleet.etcd.restoreSingle(snapshot));
    }),
};

export const assignmentsVandalised: Scenario = {
  name: 'assign-garbage',
  promise: 'assign/ keys deleted and overwritten with garbage by hand: every job keeps running its release (orphaned, not stopped), and the controller restores the keys.',
  run: (reduced) =>
    runScenario({ name: 'assign-garbage', reduced }, async (fleet, log) => {
      const [first, second, third] = WEB_HOSTS;
      await log.trial('delete one assignment, garble two', async () => {
        await fleet.etcd.etcdctl('del', `${PREFIX}/assign/${first.name}/${JOB}`);
        await fleet.etcd.etcdctl('put', `${PREFIX}/assign/${second.name}/${JOB}`, '{"job": "echo", "spec": ');
        await fleet.etcd.etcdctl('put', `${PREFIX}/assign/${third.name}/${JOB}`, '{"job":"echo","specHash":"not a hash"}');
      });
    }),
};
