// A real 3-member etcd cluster on loopback, every ygg process given all three endpoints: the leader
// member SIGKILLed in the middle of a rollout, then a follower cut off (SIGSTOP: its peers and
// clients time out on it, as across a partition) in the middle of the next one. The agents keep the
// default 10 s lease here: the scenario is about etcd failing over, not about leases running out.
import { sleep } from '../fixtures/controller-harness.js';
import { EtcdReader } from './etcd-reader.js';
import type { EtcdMember } from './etcd-members.js';
import { currentRevision, doubledAssignWrites, runScenario, type Scenario } from './scenario-run.js';
import type { ChaosFleet } from './chaos-fleet.js';

/**
 * etcd's default election timeout is 1 s, randomised to under 2 s: a write through the surviving
 * members must succeed within that, the vote, and slack for a loaded CI machine (2 s measured here).
 */
const WRITE_RESUME_BUDGET_MS = 4000;
/** How far into a rollout the fault lands: the first batch is deploying. */
const MID_ROLLOUT_MS = 2500;

/** Time until a write through the members other than `faulted` succeeds, after `fault`. */
async function writesResumeAfter(fleet: ChaosFleet, faulted: EtcdMember, fault: () => Promise<void> | void): Promise<number> {
  const survivors = new EtcdReader(fleet.etcd.members.filter((member) => member !== faulted).map((member) => member.clientUrl));
  const startMs = Date.now();
  await fault();
  for (let attempt = 0; Date.now() - startMs < 30_000; attempt++) {
    try {
      await survivors.put('/chaos-probe/write', String(attempt));
      return Date.now() - startMs;
    } catch {
      await sleep(20);
    }
  }
  throw new Error('writes never resumed on the surviving members');
}

export const clusterMemberFaults: Scenario = {
  name: 'etcd-cluster',
  promise: "3-member etcd, every client given all endpoints: the leader member SIGKILLed mid-rollout, then a follower frozen mid-rollout: writes resume within etcd's election time, no job restarts, no assignment write is lost or doubled, and both rollouts complete.",
  run: (reduced) =>
    runScenario({ name: 'etcd-cluster', reduced, etcdMembers: 3, agentLeaseTtl: '10s' }, async (fleet, log) => {
      const fromRevision = await currentRevision(fleet.reader);
      const checkResume = (what: string, ms: number) => {
        log.note(`writes resumed ${ms} ms after the ${what}`);
        if (ms > WRITE_RESUME_BUDGET_MS) log.violation(`writes resumed only ${ms} ms after the ${what} (budget ${WRITE_RESUME_BUDGET_MS} ms)`);
      };
      await log.trial('leader member SIGKILLed mid-rollout', async () => {
        fleet.repo.roll(1);
        await sleep(MID_ROLLOUT_MS);
        const leader = await fleet.etcd.leader();
        checkResume(`leader ${leader.name}'s SIGKILL`, await writesResumeAfter(fleet, leader, () => leader.kill()));
        await sleep(2000);
        await leader.start();
      });
      await log.trial('follower frozen mid-rollout', async () => {
        fleet.repo.roll(2);
        await sleep(MID_ROLLOUT_MS);
        const leader = await fleet.etcd.leader();
        const follower = fleet.etcd.members.find((member) => member !== leader)!;
        checkResume(`follower ${follower.name}'s freeze`, await writesResumeAfter(fleet, follower, () => follower.freeze()));
        await sleep(reduced ? 5000 : 15_000);
        follower.thaw();
      });
      const doubled = await doubledAssignWrites(fleet.reader, fromRevision);
      if (doubled.length > 0) log.violation(`${doubled.length} assignment writes repeated: ${doubled.slice(0, 3).join('; ')}`);
    }),
};
