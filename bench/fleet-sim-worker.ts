// One worker process of the fleet simulator: runs its share of the simulated hosts, each a real
// HostAgent (compiled, as users run it) with its own etcd client, lease and watch, and the
// SimulatedProcessDriver in place of real processes. Started by fleet-sim.ts with its orders as
// argv[2] (JSON); says "ready" over IPC once every agent started, and answers "usage" with its CPU
// time and RSS. The orchestrator ends it with SIGKILL when its hosts are to be lost (no goodbye:
// their leases expire, as for a crashed host), and all of them so at the end (the etcd and the
// temp dir the agents use go right after). SIGTERM (someone else's) still closes the agents.
import path from 'node:path';
import pino from 'pino';
import { HostAgent } from './compiled.js';
import { SimulatedProcessDriver } from './simulated-process-driver.js';

export interface WorkerOrders {
  readonly etcdUrl: string;
  readonly etcdPrefix: string;
  readonly controllerUrl: string;
  /** Each agent's root is <rootDir>/<host>. */
  readonly rootDir: string;
  readonly hosts: readonly string[];
  readonly leaseTtlSeconds: number;
  readonly healthyAfterMs: number;
}

export type WorkerReply = { readonly type: 'ready'; readonly agents: number } | { readonly type: 'usage'; readonly cpuMicros: number; readonly rssBytes: number; readonly running: number };

/** How many agents start at once: each opens an etcd connection and takes a lease. */
const START_BATCH = 25;

const orders = JSON.parse(process.argv[2]!) as WorkerOrders;
const driver = new SimulatedProcessDriver({ healthyAfterMs: orders.healthyAfterMs });
// Warnings and errors of every agent go to stderr (the orchestrator keeps them in a file).
const logger = pino({ level: 'warn' }, pino.destination(2));
const agents: InstanceType<typeof HostAgent>[] = [];

for (let first = 0; first < orders.hosts.length; first += START_BATCH) {
  await Promise.all(
    orders.hosts.slice(first, first + START_BATCH).map(async (host) => {
      const agent = new HostAgent({
        host,
        root: path.join(orders.rootDir, host),
        etcd: { endpoints: [orders.etcdUrl] },
        etcdPrefix: orders.etcdPrefix,
        controllerUrl: orders.controllerUrl,
        leaseTtlSeconds: orders.leaseTtlSeconds,
        agentVersion: 'fleet-sim',
        logger: logger.child({ host }),
        processDriver: driver,
      });
      await agent.start();
      agents.push(agent);
    }),
  );
}

process.on('message', (message: { type: string }) => {
  if (message.type !== 'usage') return;
  const cpu = process.cpuUsage();
  const reply: WorkerReply = { type: 'usage', cpuMicros: cpu.user + cpu.system, rssBytes: process.memoryUsage().rss, running: driver.running };
  process.send!(reply);
});
process.on('SIGTERM', () => {
  void Promise.all(agents.map((agent) => agent.close().catch(() => undefined))).finally(() => process.exit(0));
});
const ready: WorkerReply = { type: 'ready', agents: agents.length };
process.send!(ready);
