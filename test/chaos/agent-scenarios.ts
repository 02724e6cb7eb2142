// Faults of the host agents: SIGKILLed (restarted by a supervisor, or by its twin watchdog), stopped
// on most hosts past rescheduleAfterSeconds, and a second agent started for a host that has one.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sleep, waitUntil } from '../fixtures/controller-harness.js';
import { PREFIX, type ChaosFleet } from './chaos-fleet.js';
import { JOB, WEB_HOSTS } from './chaos-repo.js';
import { parseJson } from './etcd-reader.js';
import { runScenario, type Scenario } from './scenario-run.js';

/** The agents run with --lease-ttl 3s: a registration gone for longer than this is gone for good. */
const AGENT_KEY_GRACE_MS = 2000;
/** How long a second agent is left to do harm. */
const TWIN_RUN_MS = 5000;

function twinPid(fleet: ChaosFleet, host: string, role: 'agent' | 'watchdog'): number | undefined {
  try {
    return (parseJson(readFileSync(path.join(fleet.rootOf(host), 'run', `${role}.pid.json`), 'utf8')) as { pid?: number } | undefined)?.pid;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function hasAgentKey(fleet: ChaosFleet, host: string): Promise<boolean> {
  return (await fleet.reader.range(`${PREFIX}/agents/${host}`)).values.has(`${PREFIX}/agents/${host}`);
}

export const agentKilled: Scenario = {
  name: 'agent-killed',
  promise: "An agent SIGKILLed, once restarted 2 s later by its supervisor (--no-watchdog) and once restarted by its twin watchdog: the jobs keep running and are adopted, never restarted; keepalived.conf keeps every real server.",
  run: (reduced) =>
    runScenario({ name: 'agent-killed', reduced }, async (fleet, log) => {
      const [first, second] = WEB_HOSTS;
      await log.trial(`${first.name}: SIGKILL, restarted after 2 s`, async () => {
        await fleet.agents.get(first.name)!.kill();
        await sleep(2000);
        fleet.startAgent(first.name);
      });
      // The second host's agent again, with its watchdog: a clean stop and start, which must adopt too.
      await fleet.agents.get(second.name)!.terminate();
      const supervised = fleet.startAgent(second.name, { watchdog: true });
      await waitUntil(() => twinPid(fleet, second.name, 'watchdog'), 'the watchdog started', 15_000);
      await log.trial(`${second.name}: SIGKILL under the watchdog`, async () => {
        const killedAtMs = Date.now();
        await supervised.kill();
        const restarted = await waitUntil(() => {
          const pid = twinPid(fleet, second.name, 'agent');
          return pid !== undefined && pid !== supervised.pid && isAlive(pid) ? pid : undefined;
        }, 'the watchdog restarting the agent', 15_000);
        log.note(`the watchdog restarted ${second.name}'s agent (pid ${restarted}) ${Date.now() - killedAtMs} ms after the SIGKILL`);
      });
    }),
};

export const agentsLost: Scenario = {
  name: 'agents-lost',
  promise: "The agents of 2 of 3 hosts (the two running the job's 2 replicas) stopped 1.5 s apart past rescheduleAfterSeconds (3 s here, agent leases 3 s): losing most of an idc at once is a partition, so nothing moves; the jobs keep running; the agents' return converges.",
  run: (reduced) =>
    runScenario({ name: 'agents-lost', reduced, replicas: 2, rescheduleAfterSeconds: 3 }, async (fleet, log) => {
      const stoppedMs = reduced ? 10_000 : 30_000;
      const assigned = [...(await fleet.reader.range(`${PREFIX}/assign/`)).values.keys()]
        .map((key) => new RegExp(`^${PREFIX}/assign/([^/]+)/${JOB}$`).exec(key)?.[1])
        .filter((host): host is string => host !== undefined);
      if (assigned.length !== 2) throw new Error(`expected 2 hosts assigned, found ${assigned.join(', ')}`);
      await log.trial(`agents of ${assigned.join(', ')} stopped ${stoppedMs / 1000} s`, async () => {
        // 1.5 s apart, as hosts fall away in a real partition: their leases run out one after the other.
        for (const host of assigned) {
          await fleet.agents.get(host)!.terminate();
          await sleep(1500);
        }
        await sleep(stoppedMs);
        for (const host of assigned) fleet.startAgent(host);
      });
    }),
};

export const twoAgentsOneHost: Scenario = {
  name: 'two-agents',
  promise: "A second agent started for a host that has one, on the same --root and on another root: one agent per host; the second neither starts a second instance nor restarts the job, and the first stays registered after the second is gone.",
  run: (reduced) =>
    runScenario({ name: 'two-agents', reduced }, async (fleet, log) => {
      const host = WEB_HOSTS[0].name;
      for (const [label, root] of [['same root', fleet.rootOf(host)], ['another root', path.join(fleet.dir, 'roots', `${host}-twin`)]] as const) {
        await log.trial(`second agent for ${host}, ${label}`, async () => {
          const twin = fleet.startAgent(host, { root, source: `twin (${label})` });
          const outcome = await Promise.race([twin.exited.then((code) => `exited with ${code}`), sleep(TWIN_RUN_MS).then(() => `still running after ${TWIN_RUN_MS / 1000} s`)]);
          log.note(`second agent for ${host} (${label}): ${outcome}`);
          await twin.terminate();
        });
        // The trial settled 2.5 s after converging: with this, past the second agent's 3 s lease.
        await sleep(AGENT_KEY_GRACE_MS);
        if (!(await hasAgentKey(fleet, host))) log.violation(`agents/${host} gone after the second agent (${label}) left and its lease ran out, while the host's own agent runs`);
      }
    }),
};
