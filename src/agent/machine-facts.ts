// The facts an agent publishes at agents/<host> (machine management): what the machine is, so the
// controller and the console can show it without logging in. Read fresh on every refresh because
// free disk and addresses change while the agent runs.
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import type { AgentRecord } from '../store/records.js';
import { processIdentity } from './process-identity.js';

/** The agent root is missing or unreadable: disk facts would describe the wrong file system. */
export class MachineFactsError extends Error {
  readonly code = 'E_AGENT_ROOT_UNREADABLE';
  constructor(
    readonly root: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot read the file system of the agent root ${root}: ${reason}`, options);
    this.name = 'MachineFactsError';
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, root: this.root };
  }
}

export async function readMachineFacts(host: string, root: string, agentVersion: string, startedAt: Date, now: Date = new Date()): Promise<AgentRecord> {
  const identity = processIdentity(process.pid);
  return {
    host,
    hostname: os.hostname(),
    ips: listAddresses(os.networkInterfaces()),
    // the machine's count, not the agent's affinity; os.cpus() is empty where /proc/cpuinfo is hidden
    cpus: os.cpus().length || os.availableParallelism(),
    memoryBytes: os.totalmem(),
    diskFreeBytes: await readFreeBytes(root),
    os: `${os.platform()} ${os.release()}`,
    agentVersion,
    ...(identity ? { process: identity } : {}),
    startedAt: startedAt.toISOString(),
    updatedAt: now.toISOString(),
  };
}

/**
 * Addresses other hosts could reach this one at: loopback is useless to them, and IPv6 link-local
 * (fe80::/10) only means something together with an interface name. IPv4 first, each family sorted,
 * so an unchanged machine always writes the same value.
 */
export function listAddresses(interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>): string[] {
  const v4 = new Set<string>();
  const v6 = new Set<string>();
  for (const infos of Object.values(interfaces)) {
    for (const info of infos ?? []) {
      if (info.internal) continue;
      if (info.family === 'IPv4') v4.add(info.address);
      else if (!/^fe[89ab]/i.test(info.address)) v6.add(info.address);
    }
  }
  return [...[...v4].sort(), ...[...v6].sort()];
}

async function readFreeBytes(root: string): Promise<number> {
  try {
    const stats = await statfs(root);
    // bavail, not bfree: the blocks reserved for root are not available to the jobs' data and logs
    return stats.bavail * stats.bsize;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR') throw new MachineFactsError(root, code, { cause: error });
    throw error;
  }
}
