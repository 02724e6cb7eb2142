// Where a rollout batch's time goes (issue 11, the batch hand-off). Runs beside `npm run bench:fleet`:
//
//   node --import tsx bench/handoff-trace.ts record --etcd URL [--prefix /ygg/v1] --out trace.jsonl
//   node --import tsx bench/handoff-trace.ts analyze trace.jsonl
//
// `record` writes every assign/, status/ and naming/ event of the bench's etcd with the time this
// process saw it. `analyze` splits each one-job rollout (≤ 200 instances of one job on a new spec)
// into its batches and prints, per batch, the median stage times. A status record carries the
// agent's own clock (`since`: the process started; `updatedAt`: the status was computed), so from
// the watcher's side alone: assignment written → process started → healthy → status in etcd → next
// batch written.
import { createWriteStream, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Etcd3 } from 'etcd3';

interface TraceEvent {
  readonly t: number;
  readonly kind: 'assign' | 'status' | 'naming' | 'render';
  readonly instance: string;
  readonly deleted?: true;
  readonly specHash?: string;
  readonly state?: string;
  readonly since?: string;
  readonly updatedAt?: string;
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'record') await record(rest);
else if (mode === 'analyze') analyze(rest);
else throw new Error('usage: handoff-trace.ts record --etcd URL --out FILE | analyze FILE');

async function record(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { etcd: { type: 'string' }, prefix: { type: 'string', default: '/ygg/v1' }, out: { type: 'string' } } });
  const prefix = `${values.prefix!}/`;
  const out = createWriteStream(values.out!);
  const client = new Etcd3({ hosts: values.etcd! });
  // from the first revision: an instance's earlier spec (the first deploy) tells a change from a first assignment
  const watcher = await client.watch().prefix(prefix).startRevision('1').create();
  const onEvent = (deleted: boolean) => (kv: { key: Buffer; value: Buffer }) => {
    const event = toEvent(kv.key.toString().slice(prefix.length), deleted ? undefined : kv.value.toString());
    if (event) out.write(`${JSON.stringify(event)}\n`);
  };
  watcher.on('put', onEvent(false));
  watcher.on('delete', onEvent(true));
  process.once('SIGTERM', () => void watcher.cancel().then(() => (client.close(), out.end())));
}

function toEvent(key: string, text: string | undefined): TraceEvent | undefined {
  const [kind, first, second] = key.split('/');
  const value = text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>);
  const t = Date.now();
  const deleted = value === undefined ? { deleted: true as const } : {};
  const str = (name: string) => (typeof value?.[name] === 'string' ? { [name]: value[name] as string } : {});
  if (kind === 'assign' && second) return { t, kind, instance: `${first}/${second}`, ...deleted, ...str('specHash') };
  if (kind === 'status' && second === '_render') return { t, kind: 'render', instance: first! };
  if (kind === 'status' && second) return { t, kind, instance: `${first}/${second}`, ...deleted, ...str('specHash'), ...str('state'), ...str('since'), ...str('updatedAt') };
  if (kind === 'naming' && second) return { t, kind, instance: second, ...deleted, ...str('specHash') };
  return undefined;
}

function analyze(args: string[]): void {
  const events = readFileSync(args[0]!, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as TraceEvent);
  const rows: string[][] = [];
  for (const { job, assigns } of oneJobRollouts(events)) {
    // a batch: the assignments written within 50 ms of each other (one write chunk or a few)
    const batches: TraceEvent[][] = [];
    for (const event of assigns) {
      const last = batches.at(-1);
      if (last && event.t - last.at(-1)!.t < 50) last.push(event);
      else batches.push([event]);
    }
    const healthy = (assign: TraceEvent) => events.find((event) => event.kind === 'status' && event.t >= assign.t && event.instance === assign.instance && event.specHash === assign.specHash && event.state === 'Healthy')!;
    const done = batches.map((batch) => batch.map(healthy));
    batches.forEach((batch, index) => {
      const t0 = batch[0]!.t;
      const statuses = done[index]!;
      const maxOf = (values: number[]) => Math.max(...values) - t0;
      const lastWritten = maxOf(statuses.map((s) => s.t));
      const next = batches[index + 1]?.[0]!.t;
      rows.push([
        job,
        String(index + 1),
        String(batch.length),
        `${maxOf(batch.map((a) => a.t))}`,
        `${median(statuses.map((s) => Date.parse(s.since!) - t0))}/${maxOf(statuses.map((s) => Date.parse(s.since!)))}`,
        `${median(statuses.map((s) => Date.parse(s.updatedAt!) - t0))}/${maxOf(statuses.map((s) => Date.parse(s.updatedAt!)))}`,
        `${median(statuses.map((s) => s.t - Date.parse(s.updatedAt!)))}`,
        `${lastWritten}`,
        next === undefined ? '-' : `${next - t0 - lastWritten}`,
      ]);
    });
    const lastHealthy = Math.max(...done.flat().map((s) => s.t));
    const render = events.find((event) => event.kind === 'render' && event.t > lastHealthy);
    rows.push([job, 'render', '', '', '', '', '', '', render ? `${render.t - lastHealthy}` : '-']);
  }
  const header = ['job', 'batch', 'n', 'assign spread', 'started p50/max', 'healthy p50/max', 'status delay p50', 'last status in etcd', '→ next batch (or render)'];
  console.log([header, ...rows].map((row) => row.join('\t')).join('\n'));
}

/**
 * The assignments of each one-job rollout: those giving an instance a spec hash other than its
 * previous one, grouped per job while less than 3 s apart, kept when no other job's group overlaps
 * (the first deploy and "all jobs" are left out).
 */
function oneJobRollouts(events: readonly TraceEvent[]): { job: string; assigns: TraceEvent[] }[] {
  const previous = new Map<string, string>();
  const groups: { job: string; assigns: TraceEvent[] }[] = [];
  const open = new Map<string, { job: string; assigns: TraceEvent[] }>();
  for (const event of events) {
    if (event.kind !== 'assign' || !event.specHash) continue;
    const before = previous.get(event.instance);
    previous.set(event.instance, event.specHash);
    if (before === undefined || before === event.specHash) continue;
    const job = event.instance.split('/')[1]!;
    const group = open.get(job);
    if (group && event.t - group.assigns.at(-1)!.t < 3_000) group.assigns.push(event);
    else {
      const fresh = { job, assigns: [event] };
      open.set(job, fresh);
      groups.push(fresh);
    }
  }
  const span = (group: { assigns: TraceEvent[] }) => [group.assigns[0]!.t, group.assigns.at(-1)!.t] as const;
  return groups.filter((group) => {
    const [from, to] = span(group);
    return !groups.some((other) => other !== group && span(other)[0] <= to && span(other)[1] >= from);
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
