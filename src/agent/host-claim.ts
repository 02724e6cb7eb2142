// One agent per host (DESIGN.md §3a). Two layers:
// * a lock file in the agent root names the process that owns it, so a second agent on the same
//   root never adopts the first one's processes;
// * agents/<host> is created only if absent, under the agent's lease, so a second agent for the
//   host elsewhere (another root, another machine) is refused while the first one lives.
// A predecessor that died (SIGKILL, crash) is told apart from a live twin by its (pid, start time)
// on this machine; on another machine only its lease running out proves it gone.
import os from 'node:os';
import { setTimeout } from 'node:timers/promises';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../repo/write-file-atomic.js';
import { isAgentRecord } from '../store/record-checks.js';
import type { AgentRecord } from '../store/records.js';
import type { EtcdStateStore } from '../store/state-store.js';
import { isSameProcess, processIdentity, type ProcessIdentity } from './process-identity.js';

export class HostClaimedError extends Error {
  readonly code = 'E_AGENT_CONFLICT';
  constructor(
    readonly host: string,
    readonly holder: string,
  ) {
    super(`another agent already runs for host ${host}: ${holder}; stop it first (one agent per host)`);
    this.name = 'HostClaimedError';
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, host: this.host, holder: this.holder };
  }
}

// Not *.json: the run dir's *.json files are the jobs' pid files.
const LOCK_FILE = 'agent.lock';

interface LockRecord extends ProcessIdentity {
  readonly host: string;
}

/** Takes ROOT/run/agent.lock, unless a live agent process holds it. */
export async function lockAgentRoot(root: string, host: string): Promise<void> {
  const file = path.join(root, 'run', LOCK_FILE);
  const holder = await readLock(file);
  if (holder && holder.pid !== process.pid && isSameProcess(holder)) {
    throw new HostClaimedError(holder.host, `pid ${holder.pid} holds ${file}`);
  }
  const self = processIdentity(process.pid)!;
  await writeFileAtomic(file, JSON.stringify({ ...self, host } satisfies LockRecord));
}

async function readLock(file: string): Promise<LockRecord | undefined> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as Partial<LockRecord>;
    return typeof value.pid === 'number' && typeof value.startTime === 'number' ? { pid: value.pid, startTime: value.startTime, host: String(value.host) } : undefined;
  } catch {
    return undefined; // none, or torn by a crash mid-write: nobody holds it
  }
}

export interface ClaimOptions {
  readonly store: EtcdStateStore;
  readonly key: string;
  readonly host: string;
  readonly facts: AgentRecord;
  readonly leaseId: string;
  /** How long to wait for another machine's agent lease to run out (its TTL and a margin). */
  readonly waitMs: number;
  readonly onWaiting?: (holder: string) => void;
  readonly signal?: AbortSignal;
}

/** Creates agents/<host> under our lease, taking over from a dead predecessor; throws HostClaimedError if a live one holds it. */
export async function claimHost(options: ClaimOptions): Promise<void> {
  const { store, key, facts, leaseId } = options;
  const deadline = Date.now() + options.waitMs;
  let told = false;
  for (;;) {
    const { created, existing } = await store.putIfAbsent(key, facts, leaseId);
    if (created || !existing) return;
    if (String(existing.lease) === leaseId) {
      await store.applyBatch([{ put: key, value: facts, lease: leaseId }]);
      return;
    }
    const holder = parseHolder(existing.value);
    if (holder && holder.hostname === os.hostname() && holder.process) {
      // On this machine: another live process is a twin, refused at once; a dead one let go by
      // crashing; this very process left it under a lease it lost (e.g. etcd was away).
      if (holder.process.pid !== process.pid && isSameProcess(holder.process)) throw new HostClaimedError(options.host, describeHolder(holder));
      await store.deleteIfUnchanged(key, String(existing.mod_revision));
      continue;
    }
    if (Date.now() >= deadline) throw new HostClaimedError(options.host, holder ? describeHolder(holder) : 'an unreadable agents/ record under a live lease');
    if (!told) options.onWaiting?.(holder ? describeHolder(holder) : 'unknown');
    told = true;
    await setTimeout(500, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
  }
}

function parseHolder(value: Buffer): AgentRecord | undefined {
  try {
    const parsed = JSON.parse(value.toString()) as unknown;
    return isAgentRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function describeHolder(holder: AgentRecord): string {
  const pid = holder.process ? ` pid ${holder.process.pid}` : '';
  return `the agent on ${holder.hostname}${pid}, started ${holder.startedAt}`;
}
