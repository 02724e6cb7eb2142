import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { formatFinding } from '../../src/repo/finding.js';
import { GitSource } from '../../src/repo/git-source.js';
import { RepoLoader } from '../../src/repo/load-repo.js';
import { createSchemaValidator } from '../../src/repo/schema-validator.js';
import { FleetView, reconcileNow, startInProcess, waitUntil } from '../fixtures/controller-harness.js';
import { sharedEtcd, uniquePrefix, type SharedEtcd } from '../fixtures/etcd-server.js';
import { createGitFleet, type GitFleet } from '../fixtures/git-fleet.js';
import { removeDir } from '../fixtures/small-fleet.js';

const fleets: GitFleet[] = [];
after(() => fleets.forEach((fleet) => removeDir(fleet.dir)));

const LINES = 5_000;

/**
 * A large-but-allowed file (~230 KiB) with a syntax error at its end: js-yaml reads it all, and then
 * `yaml` re-parses it all to locate the error. Each costs the main thread a second or so when parsed
 * there.
 */
function largeBrokenFile(seed: number): string {
  const lines = Array.from({ length: LINES }, (_, index) => `  key-${seed}-${index}: [value, ${index}, { nested: true }]`);
  return `apiVersion: ygg/v1\nkind: Host\nmetadata: { name: bulk-${seed} }\nspec:\n${lines.join('\n')}\n  broken: [unclosed\n`;
}

function heavyCommit(fleet: GitFleet, files = 4): string {
  const changes: Record<string, string> = {};
  for (let index = 0; index < files; index++) changes[`bulk-${index}.yaml`] = largeBrokenFile(index);
  return fleet.commit('Bulk files with a mistake', changes);
}

/**
 * CPU time of this process's main thread (ms), from Linux's per-thread counters (the main thread's
 * id is the process id; utime and stime are fields 14 and 15, in ticks of 10 ms). Unlike wall-clock
 * measures it does not count time the thread waited for a core on a busy machine.
 */
function mainThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface MainThread {
  readonly worstDelayMs: number;
  readonly cpuMs: number;
}

/** The main thread while `work` runs: its largest event-loop delay, and the CPU time it spent. */
async function mainThreadDuring(work: () => Promise<unknown>): Promise<MainThread> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  const cpuBefore = mainThreadCpuMs();
  histogram.enable();
  try {
    await work();
  } finally {
    histogram.disable();
  }
  return { worstDelayMs: histogram.max / 1e6, cpuMs: mainThreadCpuMs() - cpuBefore };
}

/**
 * 200 ms is the goal and what a quiet machine shows (~50 ms); the margin is for a loaded 2-core CI
 * machine, where the delay also counts time the thread waited for a core. Parsing on the main
 * thread costs it seconds of CPU here.
 */
const MAX_STALL_MS = 500;
const MAX_CPU_MS = 300;

function assertNotBlocked({ worstDelayMs }: MainThread): void {
  assert.ok(worstDelayMs < MAX_STALL_MS, `the event loop was blocked for ${worstDelayMs.toFixed(0)} ms`);
}

/**
 * GET `url` every 50 ms from a worker thread until stopped; the latencies (ms). A probe on the main
 * thread could not see a stall: it would be stalled with it.
 */
async function probeFromAnotherThread(url: string): Promise<{ stop(): Promise<number[]> }> {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
    let running = true;
    parentPort.once('message', () => (running = false));
    (async () => {
      // The first fetch loads the HTTP client and connects: not a measure of the server.
      await (await fetch(workerData.url)).text();
      parentPort.postMessage('ready');
      const latencies = [];
      while (running) {
        const started = performance.now();
        await (await fetch(workerData.url)).text();
        latencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      parentPort.postMessage(latencies);
    })();`,
    { eval: true, workerData: { url } },
  );
  const next = () =>
    new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  await next();
  const latencies = next() as Promise<number[]>;
  return {
    async stop() {
      worker.postMessage('stop');
      const result = await latencies;
      await worker.terminate();
      return result;
    },
  };
}

describe('loading off the main thread', () => {
  it('a loader made for the controller parses and locates in workers: the event loop stays free', { timeout: 120_000 }, async () => {
    const fleet = createGitFleet();
    fleets.push(fleet);
    const sha = heavyCommit(fleet);
    const loader = new RepoLoader(createSchemaValidator(), { offThread: true });
    try {
      const source = new GitSource(fleet.dir);
      // The first load starts the workers; the one measured finds them ready, as a running controller does.
      await loader.load(await source.snapshotOf(sha));
      fleet.commit('Touch every bulk file', Object.fromEntries(Array.from({ length: 4 }, (_, index) => [`bulk-${index}.yaml`, `${largeBrokenFile(index)}# touched\n`])));
      const snapshot = await source.snapshot('HEAD');
      let result: Awaited<ReturnType<RepoLoader['load']>> | undefined;
      const mainThread = await mainThreadDuring(async () => (result = await loader.load(snapshot)));
      assert.equal(result!.stats.parsed, 4);
      assert.deepEqual(
        result!.findings.map(formatFinding).map((line) => line.replace(/: .*/, '')),
        [0, 1, 2, 3].map((index) => `bulk-${index}.yaml:${LINES + 7}:1`),
      );
      console.log(`# loader: event loop delay up to ${mainThread.worstDelayMs.toFixed(0)} ms; main thread CPU ${mainThread.cpuMs} ms`);
      assert.ok(mainThread.cpuMs < MAX_CPU_MS, `the main thread spent ${mainThread.cpuMs} ms of CPU`);
      assertNotBlocked(mainThread);
    } finally {
      await loader.close();
    }
  });

  it("the controller's loader parses a commit's few small files here and starts workers only for a large load", { timeout: 120_000 }, async () => {
    const fleet = createGitFleet();
    fleets.push(fleet);
    const loader = new RepoLoader(createSchemaValidator(), { offThread: true });
    try {
      const source = new GitSource(fleet.dir);
      const first = await loader.load(await source.snapshot('HEAD'));
      assert.ok(first.model, 'the small fleet loads');
      assert.equal(loader.parseWorkers, 0, 'a load of a few KiB starts no worker');
      const sha = heavyCommit(fleet);
      const heavy = await loader.load(await source.snapshotOf(sha));
      assert.equal(heavy.stats.parsed, 4);
      assert.ok(loader.parseWorkers > 0, '~1 MiB of new files is parsed in a worker');
    } finally {
      await loader.close();
    }
  });

  describe('in the controller', () => {
    let etcd: SharedEtcd;
    before(async () => {
      etcd = await sharedEtcd();
    });
    after(async () => {
      await etcd.stop();
    });

    it('answers /healthz at once while it loads and rejects a commit of large broken files', { timeout: 120_000 }, async () => {
      const fleet = createGitFleet();
      fleets.push(fleet);
      const prefix = uniquePrefix('off-thread');
      const view = new FleetView(etcd.url, prefix);
      const controller = await startInProcess({ repo: fleet.dir, etcdPrefix: prefix, etcdUrl: etcd.url, listen: { host: '127.0.0.1', port: 0 } });
      try {
        await reconcileNow(controller);
        await waitUntil(async () => (await view.current())?.commit.sha || undefined, 'the first commit in force');
        const badSha = heavyCommit(fleet);
        let latencies: number[] = [];
        const mainThread = await mainThreadDuring(async () => {
          const probe = await probeFromAnotherThread(`${controller.url}/healthz`);
          await reconcileNow(controller);
          latencies = await probe.stop();
        });
        const current = await view.current();
        assert.equal(current?.rejected?.commit.sha, badSha, 'the commit was loaded and rejected');
        assert.ok(current!.rejected!.errors[0]!.startsWith(`bulk-0.yaml:${LINES + 6}:1: `), current!.rejected!.errors[0]);
        assert.ok(latencies.length >= 3, `${latencies.length} probes during the load`);
        assert.ok(Math.max(...latencies) < MAX_STALL_MS, `/healthz took up to ${Math.max(...latencies).toFixed(0)} ms`);
        // Its CPU is not asserted here: answering the probes takes some.
        console.log(`# /healthz: ${latencies.length} probes, up to ${Math.max(...latencies).toFixed(0)} ms; event loop delay up to ${mainThread.worstDelayMs.toFixed(0)} ms`);
        assertNotBlocked(mainThread);
      } finally {
        await controller.close();
        await view.close();
      }
    });
  });
});
