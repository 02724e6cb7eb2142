// Console benchmark: the latency of /api/tree, /api/jobs/<name> and /api/hosts/<name> over a
// synthetic controller state of 10,000 instances (no etcd: the console reads memory), both right
// after a change (the views recomputed) and unchanged (cached), and the fan-out of one change to
// 50 /api/events clients. Served by the real HTTP server over real sockets. Prints figures; not a test.
//
//   npm run build && node --import tsx bench/console.ts [--runs 20]
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { MirrorChange } from '../src/controller/fleet-informer.js';
import type { ObservedAssignment } from '../src/controller/observed-state.js';
import type { JobSummary } from '../src/controller/reconcile-fleet.js';
import type { Model } from '../src/model/types.js';
import type { AgentRecord, StatusRecord } from '../src/store/records.js';
import type { ConsoleState } from '../src/server/console/console-source.js';
import { host, job, model, treeNode } from '../test/fixtures/model-builder.js';
import { openEventStream } from '../test/fixtures/sse-client.js';
import { buildFleetIndex, createConsoleApi, createControllerMetrics, hashInstanceSpec, keyLayout, startHttpServer } from './compiled.js';
import { median } from './synthetic-fleet.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const runs = Number(values.runs);
const layout = keyLayout('/ygg/v1');
const NOW = new Date().toISOString();

/** `jobs` jobs of `perJob` instances each, spread over `clusters` of `hostsPerCluster` hosts; one status in 20 is not healthy. */
function syntheticState(jobs: number, perJob: number, clusters: number, hostsPerCluster: number): ConsoleState {
  const hosts = Array.from({ length: clusters * hostsPerCluster }, (_, index) => host(`h${index}`, { ip: `10.${index >> 16}.${(index >> 8) & 255}.${index & 255}` }));
  const clusterTag = (c: number) => `cop.acme_owt.o${c % 4}_pdl.p${c % 10}_cluster.c${c}`;
  const treeNodes = Array.from({ length: clusters }, (_, c) => treeNode(clusterTag(c), { hosts: hosts.slice(c * hostsPerCluster, (c + 1) * hostsPerCluster).map((item) => item.name) }));
  const jobList = Array.from({ length: jobs }, (_, index) => job(`j${index}`, { tag: `${clusterTag(index % clusters)}_service.s${index}_job.j${index}`, replicas: perJob }));
  const built: Model = model({ hosts, treeNodes, jobs: jobList });
  const assignments = new Map<string, Map<string, ObservedAssignment>>();
  const byJob = new Map<string, Map<string, ObservedAssignment>>();
  const statuses = new Map<string, Map<string, StatusRecord>>();
  const statusesByJob = new Map<string, Map<string, StatusRecord>>();
  const put = <T>(map: Map<string, Map<string, T>>, outer: string, inner: string, value: T) => (map.get(outer) ?? map.set(outer, new Map()).get(outer)!).set(inner, value);
  let count = 0;
  jobList.forEach((item, index) => {
    const c = index % clusters;
    for (let i = 0; i < perJob; i++) {
      const on = hosts[c * hostsPerCluster + ((index + i) % hostsPerCluster)]!;
      const hashed = hashInstanceSpec(item, on);
      const observed = { record: { job: item.name, tag: item.tag, host: hashed.host, spec: hashed.spec, specHash: hashed.specHash, commit: 'c'.repeat(40), assignedAt: NOW }, intact: true };
      put(assignments, on.name, item.name, observed);
      put(byJob, item.name, on.name, observed);
      const status: StatusRecord = { specHash: hashed.specHash, release: hashed.specHash.slice(0, 12), pid: 1000 + count, state: count++ % 20 === 0 ? 'Unhealthy' : 'Healthy', restarts: 0, since: NOW, updatedAt: NOW };
      put(statuses, on.name, item.name, status);
      put(statusesByJob, item.name, on.name, status);
    }
  });
  const agents = new Map<string, AgentRecord>(hosts.map((item) => [item.name, { host: item.name, hostname: item.name, ips: [item.ip], cpus: 8, memoryBytes: 2 ** 34, diskFreeBytes: 2 ** 36, os: 'linux', agentVersion: 'bench', startedAt: NOW, updatedAt: NOW }]));
  const jobSummaries = new Map<string, JobSummary>(jobList.map((item) => [item.name, { tag: item.tag, health: 'Healthy', desired: perJob, healthy: perJob, outOfSync: 0, version: '1.0.0', rolling: false }]));
  return {
    current: { commit: { sha: 'c'.repeat(40), author: 'bench', email: 'bench@example.com', message: 'bench', timestamp: 0 }, result: 'Synced', time: NOW },
    observed: { assignments, byJob, statuses, statusesByJob, liveAgents: new Set(agents.keys()), lostSince: new Map(), rescheduledAt: new Map(), rollouts: new Map(), vips: new Map() },
    extras: { agents, naming: new Map(), renders: new Map() },
    inForce: { commit: { sha: 'c'.repeat(40), author: 'bench', email: 'bench@example.com', message: 'bench', timestamp: 0 }, model: built, index: buildFleetIndex(built) },
    jobSummaries,
  };
}

async function measure(label: string, shape: { jobs: number; perJob: number; clusters: number; hostsPerCluster: number }, paths: readonly string[]): Promise<void> {
  const { jobs, perJob, clusters, hostsPerCluster } = shape;
  const state = syntheticState(jobs, perJob, clusters, hostsPerCluster);
  const listeners = new Set<(change: MirrorChange) => void>();
  const change = (key: string) => { for (const listener of listeners) listener({ key }); };
  const api = createConsoleApi({
    layout,
    state: () => state,
    subscribe: (listener) => { listeners.add(listener); return () => listeners.delete(listener); },
    readHistory: async () => ({ records: [] }),
  });
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), metrics: createControllerMetrics(), isReady: () => ({ ready: true }), getStatus: () => { throw new Error('unused'); }, webhookSecret: undefined, onPush: () => {}, getConsole: () => api });
  console.log(`${label}: ${jobs} jobs × ${perJob} instances = ${jobs * perJob} instances on ${clusters * hostsPerCluster} hosts`);
  for (const path of paths) {
    const time = async () => {
      const started = performance.now();
      const response = await fetch(`${server.url}${path}`);
      const bytes = (await response.arrayBuffer()).byteLength;
      if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
      return { ms: performance.now() - started, bytes };
    };
    const fresh: number[] = [];
    const cached: number[] = [];
    let bytes = 0;
    for (let run = 0; run < runs; run++) {
      change(layout.status('h0', 'j0')); // what an agent's report does: the next request recomputes
      fresh.push((await time()).ms);
      const again = await time();
      cached.push(again.ms);
      bytes = again.bytes;
    }
    console.log(`  GET ${path.padEnd(34)} after a change: median ${median(fresh).toFixed(1)} ms (max ${Math.max(...fresh).toFixed(1)}); unchanged: ${median(cached).toFixed(1)} ms; ${(bytes / 1024).toFixed(0)} KB`);
  }
  await fanOut(server.url, change, 50);
  api.close();
  await server.close();
}

/** One change, 50 clients: how long until the last of them has the event. */
async function fanOut(url: string, change: (key: string) => void, clients: number): Promise<void> {
  const streams = await Promise.all(Array.from({ length: clients }, () => openEventStream(`${url}/api/events`)));
  await Promise.all(streams.map((stream) => stream.next((event) => event.event === 'snapshot')));
  const last: number[] = [];
  for (let run = 0; run < runs; run++) {
    const seen = streams.map((stream) => stream.events.length);
    const started = performance.now();
    change(layout.status(`h${run}`, `j${run}`));
    const arrived = await Promise.all(streams.map((stream, index) => stream.next((event) => event.event === 'change', 5000, seen[index])));
    last.push(Math.max(...arrived.map((event) => event.at)) - started);
  }
  for (const stream of streams) stream.close();
  console.log(`  /api/events fan-out to ${clients} clients: last client has the change after median ${median(last).toFixed(0)} ms (max ${Math.max(...last).toFixed(0)}), of which ~150 ms is the deliberate coalescing delay`);
}

await measure('1,000 jobs', { jobs: 1000, perJob: 10, clusters: 10, hostsPerCluster: 200 }, ['/api/tree', '/api/jobs/j500', '/api/hosts/h500']);
await measure('one big job', { jobs: 1, perJob: 10_000, clusters: 1, hostsPerCluster: 10_000 }, ['/api/tree', '/api/jobs/j0', '/api/jobs/j0?offset=9800', '/api/jobs/j0?state=Unhealthy', '/api/hosts/h5000']);
