// Stopping what a `ygg dev` run started, by identity only: the processes it recorded (pid + start
// time) and the jobs the agents started (their pid files). Agents leave their jobs running on
// purpose (the next agent adopts them), so ygg dev ends those itself. A pid whose start time no
// longer matches belongs to someone else now and is never signalled.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { checkPidFile, readProcessStat, type ProcessIdentity } from '../agent/process-identity.js';
import { terminateProcessGroup } from '../agent/process-group.js';

const TERMINATE = { termTimeoutMs: 5000, killTimeoutMs: 2000 };

/** Every pid file under each host root (ROOT/run/<job>.json); assignments saved beside them are not pid files. */
function jobPidFiles(hostsDir: string): string[] {
  const files: string[] = [];
  for (const host of readdirOrEmpty(hostsDir)) {
    const runDir = path.join(hostsDir, host, 'run');
    for (const name of readdirOrEmpty(runDir)) {
      if (name.endsWith('.json') && !name.endsWith('.assignment.json')) files.push(path.join(runDir, name));
    }
  }
  return files.sort();
}

/** SIGTERM then SIGKILL to the process group of every job still running under `hostsDir`; their pids. */
export async function stopJobs(hostsDir: string): Promise<number[]> {
  const checks = await Promise.all(jobPidFiles(hostsDir).map((file) => checkPidFile(file)));
  const groups = checks.flatMap((check) => (check.alive ? [check.processGroup] : []));
  await Promise.all(groups.map((group) => terminateProcessGroup(group, TERMINATE)));
  return checks.flatMap((check) => (check.alive ? [check.record.pid] : []));
}

/** Stops the very process `identity` names (its group when it leads one); false when it is already gone. */
export async function stopProcess(identity: ProcessIdentity, options = TERMINATE): Promise<boolean> {
  const stat = readProcessStat(identity.pid);
  if (!stat || stat.startTime !== identity.startTime || stat.state === 'Z') return false;
  if (stat.processGroup === identity.pid) {
    await terminateProcessGroup(identity.pid, options);
  } else {
    process.kill(identity.pid, 'SIGKILL');
  }
  return true;
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
