// The agent and its twin watchdog keep each other alive: each watches the other's (pid, start time)
// and starts it again within a second when it is gone. A deliberate stop leaves a marker first, so
// the twin lets go instead of restarting. Both run detached: killing one never takes the other along.
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../repo/write-file-atomic.js';
import { isSameProcess, processIdentity, type ProcessIdentity } from './process-identity.js';

export type TwinRole = 'agent' | 'watchdog';

export interface TwinOptions {
  readonly role: TwinRole;
  /** The agent root: ROOT/run holds the twins' pid files and the stop marker, ROOT/log/agent.log their output. */
  readonly root: string;
  /** How to start a process of the other role: node, script, arguments (the agent's own command line). */
  readonly command: (role: TwinRole) => readonly string[];
  readonly pollIntervalMs?: number;
  /** A twin was started: at our own start (`restart` false: nothing was wrong), or because it was gone. */
  readonly onStarted?: (role: TwinRole, pid: number, restart: boolean) => void;
}

const ENV_ROLE = 'YGG_TWIN_ROLE';

/** The role this process was started in (a watchdog is `ygg agent` started by its twin with this env). */
export function currentTwinRole(): TwinRole {
  return process.env[ENV_ROLE] === 'watchdog' ? 'watchdog' : 'agent';
}

function runDir(root: string): string {
  return path.join(root, 'run');
}

function pidFile(root: string, role: TwinRole): string {
  return path.join(runDir(root), `${role}.pid.json`);
}

function stopMarker(root: string): string {
  return path.join(runDir(root), 'agent.stop');
}

async function readIdentity(file: string): Promise<ProcessIdentity | undefined> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as Partial<ProcessIdentity>;
    return typeof value.pid === 'number' && typeof value.startTime === 'number' ? { pid: value.pid, startTime: value.startTime } : undefined;
  } catch {
    return undefined; // none yet, or being replaced: the next round reads it again
  }
}

function startTwin(options: TwinOptions, role: TwinRole): number {
  const [command, ...args] = options.command(role);
  const logFile = path.join(options.root, 'log', 'agent.log');
  const log = openSync(logFile, 'a');
  try {
    const child = spawn(command!, args, { detached: true, stdio: ['ignore', log, log], env: { ...process.env, [ENV_ROLE]: role } });
    child.unref();
    return child.pid!;
  } finally {
    closeSync(log);
  }
}

export interface Twin {
  /** A deliberate stop: mark it so the twin does not restart us, and stop the watchdog. */
  stopForGood(): Promise<void>;
  close(): void;
}

/** Records this process's identity and watches the twin's, restarting it when it is gone. */
export async function keepTwinAlive(options: TwinOptions): Promise<Twin> {
  const other: TwinRole = options.role === 'agent' ? 'watchdog' : 'agent';
  await mkdir(runDir(options.root), { recursive: true });
  await mkdir(path.join(options.root, 'log'), { recursive: true });
  if (options.role === 'agent') await rm(stopMarker(options.root), { force: true });
  const self = processIdentity(process.pid)!;
  await writeFileAtomic(pidFile(options.root, options.role), JSON.stringify(self));
  let starting = false;
  const check = async (restart: boolean) => {
    if (starting || existsSync(stopMarker(options.root))) {
      if (options.role === 'watchdog' && existsSync(stopMarker(options.root))) process.exit(0);
      return;
    }
    const twin = await readIdentity(pidFile(options.root, other));
    if (twin && isSameProcess(twin)) return;
    starting = true;
    try {
      const pid = startTwin(options, other);
      options.onStarted?.(other, pid, restart);
      // Wait for the new twin to record itself, so it is not started twice.
      for (let waited = 0; waited < 5000; waited += 50) {
        const started = await readIdentity(pidFile(options.root, other));
        if (started?.pid === pid) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      starting = false;
    }
  };
  // The agent starts its watchdog: that first start is expected. The watchdog is only ever started by a
  // live agent, so an agent already gone at its first look died, and starting it again is a restart.
  await check(options.role === 'watchdog');
  // Not unref'd: in the watchdog this timer is what keeps the process alive.
  const timer = setInterval(() => void check(true), options.pollIntervalMs ?? 250);
  return {
    async stopForGood() {
      clearInterval(timer);
      await writeFileAtomic(stopMarker(options.root), new Date().toISOString());
      const twin = await readIdentity(pidFile(options.root, other));
      if (twin && isSameProcess(twin)) process.kill(twin.pid, 'SIGTERM');
    },
    close() {
      clearInterval(timer);
    },
  };
}
