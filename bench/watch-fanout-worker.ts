// One worker process of the watch fan-out bench: holds the etcd sessions of its share of simulated
// hosts, each what a real agent holds open (src/agent/host-agent.ts, agent-registration.ts): its own
// etcd client, a lease kept alive every TTL/3, agents/<host> under it (facts re-put every 30 s), a
// watch on assign/<host>/ and one on agents/<host>. Plus, for the bench, a watch on one key every
// host watches (sync/current), the shape a renderer's or a future agent's shared watch has: it is
// what etcd grpc-proxy can coalesce, the per-host ones are not.
//
// Started by watch-fanout.ts with its orders as argv[2] (JSON). Says "ready" over IPC once every
// session is open; reports when its hosts saw a probe (the shared key: once all of them did; an
// assign key: at once); answers "flush" with what it has for a probe that timed out.
import { tmpdir } from 'node:os';
import { readMachineFacts } from '../src/agent/machine-facts.js';
// The store's sources, not dist/ (as the fleet simulator runs): the same code under tsx, and a
// test of this bench then checks the tree it runs in, built or not.
import { connectEtcd } from '../src/store/etcd-connection.js';
import { keyLayout } from '../src/store/keys.js';
import { anyJson, EtcdStateStore } from '../src/store/state-store.js';

export interface FanoutWorkerOrders {
  readonly endpoint: string;
  readonly etcdPrefix: string;
  readonly hosts: readonly string[];
  readonly leaseTtlSeconds: number;
  readonly factsIntervalMs: number;
}

/** A probe value: which probe, so late or repeated events are not mistaken for another. */
export interface ProbeValue {
  readonly probe: number;
}

export type FanoutWorkerReply =
  | { readonly type: 'ready'; readonly sessions: number; readonly startMs: number }
  | { readonly type: 'shared'; readonly probe: number; readonly receivedAtMs: readonly number[] }
  | { readonly type: 'assign'; readonly probe: number; readonly host: string; readonly receivedAtMs: number }
  | { readonly type: 'failures'; readonly leasesLost: number; readonly watchErrors: number; readonly resyncs: number };

export type FanoutWorkerAsk = { readonly type: 'flush'; readonly probe: number } | { readonly type: 'failures' };

/** How many sessions open at once (as the fleet simulator starts its agents). */
const START_BATCH = 25;

const orders = JSON.parse(process.argv[2]!) as FanoutWorkerOrders;
const layout = keyLayout(orders.etcdPrefix);
const send = (reply: FanoutWorkerReply) => process.send!(reply);
const sharedTimes = new Map<number, number[]>();
const closers: (() => Promise<void>)[] = [];
let leasesLost = 0;
let watchErrors = 0;
/** Watches that had to read their range again (history compacted, or etcd taken to be reset). */
let resyncs = 0;

const probeOf = (value: unknown): number | undefined => (typeof value === 'object' && value !== null && typeof (value as ProbeValue).probe === 'number' ? (value as ProbeValue).probe : undefined);

function onShared(probe: number): void {
  const times = sharedTimes.get(probe) ?? [];
  times.push(Date.now());
  sharedTimes.set(probe, times);
  if (times.length === orders.hosts.length) {
    sharedTimes.delete(probe);
    send({ type: 'shared', probe, receivedAtMs: times });
  }
}

function countResync(event: { readonly type: string }): void {
  if (event.type === 'resync') resyncs++;
}

async function openSession(host: string): Promise<void> {
  const client = await connectEtcd({ endpoints: [orders.endpoint] });
  const store = new EtcdStateStore(client, layout);
  const onError = () => watchErrors++;
  // The agent's first read: its assignments, then the registration under a fresh lease.
  const assigned = await store.getPrefixJson(layout.assignments(host), anyJson);
  const lease = await store.grantLease(orders.leaseTtlSeconds);
  lease.onLost(() => leasesLost++);
  // The real record (~300 bytes): what each facts put adds to etcd's history.
  const startedAt = new Date();
  const facts = () => readMachineFacts(host, tmpdir(), 'watch-fanout', startedAt);
  await store.putIfAbsent(layout.agent(host), await facts(), lease.id);
  const own = await store.getJson(layout.agent(host), anyJson);
  const watches = [
    store.watchKey(layout.agent(host), own.revision, countResync, { onError }),
    store.watchPrefix(layout.assignments(host), assigned.revision, (event) => {
      countResync(event);
      const probe = event.type === 'put' ? probeOf(event.value) : undefined;
      if (probe !== undefined) send({ type: 'assign', probe, host, receivedAtMs: Date.now() });
    }, { onError }),
    store.watchKey(layout.syncCurrent, own.revision, (event) => {
      countResync(event);
      const probe = event.type === 'put' ? probeOf(event.value) : undefined;
      if (probe !== undefined) onShared(probe);
    }, { onError }),
  ];
  const putFacts = async () => store.applyBatch([{ put: layout.agent(host), value: await facts(), lease: lease.id }]);
  const factsTimer = setInterval(() => void putFacts().catch(() => undefined), orders.factsIntervalMs);
  closers.push(async () => {
    clearInterval(factsTimer);
    await Promise.all(watches.map((watch) => watch.close()));
    await lease.revoke().catch(() => undefined);
    client.close();
  });
}

const started = Date.now();
for (let first = 0; first < orders.hosts.length; first += START_BATCH) {
  await Promise.all(orders.hosts.slice(first, first + START_BATCH).map(openSession));
}

process.on('message', (ask: FanoutWorkerAsk) => {
  if (ask.type === 'failures') return send({ type: 'failures', leasesLost, watchErrors, resyncs });
  const times = sharedTimes.get(ask.probe) ?? [];
  sharedTimes.delete(ask.probe);
  send({ type: 'shared', probe: ask.probe, receivedAtMs: times });
});
process.on('SIGTERM', () => {
  void Promise.all(closers.map((close) => close().catch(() => undefined))).finally(() => process.exit(0));
});
send({ type: 'ready', sessions: closers.length, startMs: Date.now() - started });
