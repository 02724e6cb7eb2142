// A job runs in its own session, so its process group id is the pid of the process we started, and
// its children (workers, shells) share the group. Stopping a job means stopping the group: signalling
// only the leader would orphan children that keep ports and files open.
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { readProcessStat } from './process-identity.js';

export type StopSignal = 'SIGTERM' | 'SIGKILL';

export interface TerminateOptions {
  readonly termTimeoutMs: number;
  /** How long SIGKILL may take (a process stuck in uninterruptible sleep) before giving up. */
  readonly killTimeoutMs: number;
  readonly pollIntervalMs?: number;
}

export interface TerminateResult {
  /** The signals actually delivered, in order. */
  readonly signals: readonly StopSignal[];
  /** False when something of the group survived SIGKILL for killTimeoutMs. */
  readonly gone: boolean;
}

/**
 * Live (non-zombie) members of a process group. Children that outlive the leader are reparented to
 * init and may linger as zombies if init does not reap them (PID 1 in many containers): zombies
 * hold no resources and cannot be signalled away, so they do not count.
 */
export function processGroupMembers(processGroup: number, procRoot = '/proc'): number[] {
  const members: number[] = [];
  for (const entry of readdirSync(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcessStat(Number(entry), procRoot);
    if (stat !== undefined && stat.processGroup === processGroup && stat.state !== 'Z' && stat.state !== 'X') members.push(stat.pid);
  }
  return members.sort((a, b) => a - b);
}

/** False when the group no longer exists (nothing to signal). */
export function signalProcessGroup(processGroup: number, signal: StopSignal): boolean {
  if (!Number.isSafeInteger(processGroup) || processGroup <= 1) return false; // never kill(-1) or kill(0)
  try {
    process.kill(-processGroup, signal);
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * SIGTERM to the group, wait until every member is gone or termTimeoutMs passed, then SIGKILL to
 * the group: a child that ignores SIGTERM is killed even when its parent exited politely.
 */
export async function terminateProcessGroup(processGroup: number, options: TerminateOptions): Promise<TerminateResult> {
  const pollMs = options.pollIntervalMs ?? 50;
  const signals: StopSignal[] = [];
  if (signalProcessGroup(processGroup, 'SIGTERM')) signals.push('SIGTERM');
  if (await waitForGroupGone(processGroup, options.termTimeoutMs, pollMs)) return { signals, gone: true };
  if (signalProcessGroup(processGroup, 'SIGKILL')) signals.push('SIGKILL');
  return { signals, gone: await waitForGroupGone(processGroup, options.killTimeoutMs, pollMs) };
}

async function waitForGroupGone(processGroup: number, timeoutMs: number, pollMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (processGroupMembers(processGroup).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
  }
}
