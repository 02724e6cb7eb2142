// After a ygg dev that did not stop cleanly (kill -9, a crash, a closed terminal): stop what it
// left running, by the identities it recorded, before a new run starts clean. Agents first, so
// none restarts a job while the jobs go; etcd last.
import type { DevLayout } from './dev-layout.js';
import type { DevLockRecord, StartedProcess } from './dev-lock.js';
import { stopJobs, stopProcess } from './stop-processes.js';

export async function recoverStaleRun(stale: DevLockRecord, layout: DevLayout): Promise<{ processes: number; jobs: number }> {
  const rank = (started: StartedProcess) => (started.name === 'etcd' ? 2 : started.name === 'controller' ? 1 : 0);
  const stopRank = async (wanted: number) => (await Promise.all(stale.processes.filter((started) => rank(started) === wanted).map((started) => stopProcess(started)))).filter(Boolean).length;
  let processes = await stopRank(0);
  const jobs = (await stopJobs(layout.hostsDir)).length;
  processes += await stopRank(1);
  processes += await stopRank(2);
  return { processes, jobs };
}
