// When is the fleet back? All of it at once: the controller reports the expected commit Synced, the
// assignments are exactly as many as the repo asks (tombstones and garbage do not count), every
// assigned host runs exactly one process of the assigned release that answers its health check and
// reports Healthy, no other host runs one, and keepalived.conf lists exactly those endpoints.
import type { JobProcess } from './instance-observer.js';
import { parseJson, type EtcdReader } from './etcd-reader.js';

export interface FleetSnapshotSources {
  readonly reader: EtcdReader;
  readonly prefix: string;
  readonly job: string;
  readonly port: number;
  readonly desiredInstances: number;
  readonly processes: () => readonly JobProcess[];
  readonly probeHealthy: () => Promise<ReadonlySet<string>>;
  readonly realServers: () => readonly string[] | undefined;
}

interface Assigned {
  readonly host: string;
  readonly ip: string;
  readonly specHash: string;
}

/** undefined when converged, else what is not yet as it should be (instances first: they say most). */
export async function notConverged(sources: FleetSnapshotSources, expectedSha: string): Promise<string | undefined> {
  const { reader, prefix, job } = sources;
  let values: Map<string, string>;
  try {
    values = (await reader.range(`${prefix}/`)).values;
  } catch (error) {
    return `etcd unreadable: ${(error as Error).message}`;
  }
  const problems: string[] = [];
  const assigned = assignments(values, prefix, job);
  const processes = sources.processes();
  const healthy = await sources.probeHealthy();
  for (const { host, ip, specHash } of assigned) {
    const status = parseJson(values.get(`${prefix}/status/${host}/${job}`)) as { specHash?: string; state?: string } | undefined;
    if (status?.specHash !== specHash || status.state !== 'Healthy') problems.push(`status/${host}/${job} is ${status?.state ?? 'absent'} ${status?.specHash?.slice(0, 8) ?? ''}, want Healthy ${specHash.slice(0, 8)}`);
    const running = processes.filter((process) => process.hostIp === ip);
    if (running.length !== 1 || running[0]!.specHash !== specHash) problems.push(`${host} runs ${running.map((process) => process.specHash.slice(0, 8)).join(',') || 'nothing'}, want ${specHash.slice(0, 8)}`);
    else if (!healthy.has(ip)) problems.push(`${host} (${ip}) does not answer /health`);
  }
  if (assigned.length !== sources.desiredInstances) problems.push(`${assigned.length} assignments of ${job}, want ${sources.desiredInstances}`);
  if (processes.length !== assigned.length) problems.push(`${processes.length} job processes live, want ${assigned.length}`);
  const current = parseJson(values.get(`${prefix}/sync/current`)) as { commit?: { sha?: string }; result?: string } | undefined;
  if (current?.commit?.sha !== expectedSha || current.result !== 'Synced') problems.push(`sync/current is ${current?.commit?.sha?.slice(0, 8) ?? 'absent'} ${current?.result ?? ''}, want ${expectedSha.slice(0, 8)} Synced`);
  const want = assigned.map((entry) => `${entry.ip}:${sources.port}`).sort();
  const have = sources.realServers();
  if (have === undefined) problems.push('keepalived.conf is missing');
  else if (have.join(' ') !== want.join(' ')) problems.push(`keepalived.conf has [${have.join(' ')}], want [${want.join(' ')}]`);
  return problems.length === 0 ? undefined : problems.slice(0, 4).join('; ');
}

function assignments(values: ReadonlyMap<string, string>, prefix: string, job: string): Assigned[] {
  const found: Assigned[] = [];
  for (const [key, text] of values) {
    const match = new RegExp(`^${prefix}/assign/([^/]+)/${job}$`).exec(key);
    if (!match) continue;
    const record = parseJson(text) as { specHash?: unknown; removed?: unknown; host?: { ip?: unknown } } | undefined;
    if (typeof record?.specHash !== 'string' || record.removed === true || typeof record.host?.ip !== 'string') continue;
    found.push({ host: match[1]!, ip: record.host.ip, specHash: record.specHash });
  }
  return found;
}

export interface ConvergeResult {
  /** ms from the call until converged; undefined when it did not within the timeout. */
  readonly ms: number | undefined;
  /** The last reason it was not (when it did not converge). */
  readonly lastReason: string | undefined;
}

/**
 * Converged = converged at some moment and still so `settleMs` later: an agent may react to a fault
 * after the controller has already repaired etcd (a drain takes 2 s), and that reaction must be seen.
 */
export async function waitConverged(sources: FleetSnapshotSources, expectedSha: () => string, timeoutMs: number, settleMs = 0): Promise<ConvergeResult> {
  const startedMs = Date.now();
  let convergedAtMs: number | undefined;
  let lastReason: string | undefined;
  for (;;) {
    lastReason = await notConverged(sources, expectedSha());
    const now = Date.now();
    if (lastReason === undefined) {
      convergedAtMs ??= now;
      if (now - convergedAtMs >= settleMs) return { ms: convergedAtMs - startedMs, lastReason };
    } else {
      convergedAtMs = undefined;
      if (now - startedMs >= timeoutMs) return { ms: undefined, lastReason };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
