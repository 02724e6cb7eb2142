// Foundation benchmark: cold validate, cold plan, incremental re-plan and peak memory on a
// synthetic fleet (10,000 jobs on 5,000 hosts by default). Prints medians; not a test.
//
//   npm run build && npm run bench -- [--jobs 10000] [--hosts 5000] [--runs 5]
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { computePlan, createSchemaValidator, GitSource, placeInstances, RepoLoader } from './compiled.js';
import { median, syntheticFleet, type SyntheticFleet } from './synthetic-fleet.js';

const root = path.resolve(import.meta.dirname, '..');
const fleet = await syntheticFleet();
const { jobs, hosts, runs, dir: fleetDir } = fleet;
const ms = (value: number) => `${value.toFixed(0)} ms`;

/** Runs the built CLI in a fresh process; wall time and the child's own peak RSS. */
function timeCli(args: string[]): { wallMs: number; maxRssMb: number; code: number } {
  const started = performance.now();
  const child = spawnSync(process.execPath, ['--import', path.join(root, 'bench/report-resources.mjs'), path.join(root, 'bin/ygg.js'), ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wallMs = performance.now() - started;
  const rss = /YGG_BENCH_MAX_RSS_KB=(\d+)/.exec(child.stderr);
  if (!rss) throw new Error(`no resource report from ygg ${args.join(' ')}:\n${child.stderr}`);
  return { wallMs, maxRssMb: Number(rss[1]) / 1024, code: child.status ?? -1 };
}

function measureCli(label: string, args: string[], expectedCode: number): void {
  const samples = Array.from({ length: runs }, () => timeCli(args));
  const bad = samples.find((sample) => sample.code !== expectedCode);
  if (bad) throw new Error(`ygg ${args.join(' ')} exited ${bad.code}, expected ${expectedCode}`);
  const wall = samples.map((sample) => sample.wallMs);
  const rss = samples.map((sample) => sample.maxRssMb);
  console.log(`${label.padEnd(34)} median ${ms(median(wall))}  (min ${ms(Math.min(...wall))}, max ${ms(Math.max(...wall))})  peak RSS ${Math.max(...rss).toFixed(0)} MB`);
}

/** A loaded commit re-planned after a one-file change: only the changed blob is parsed. */
async function measureIncremental(fleet: SyntheticFleet): Promise<void> {
  const source = new GitSource(fleetDir);
  const loader = new RepoLoader(createSchemaValidator());
  const desired = async (sha: string, previous?: ReturnType<typeof placeInstances>) => {
    const result = await loader.load(await source.snapshotOf(sha));
    if (!result.model || !result.index) throw new Error(`commit ${sha} does not validate`);
    return { model: result.model, index: result.index, placement: placeInstances(result.model, result.index, previous), parsed: result.stats.parsed };
  };
  let current = await desired(fleet.baseCommit);
  const samples: number[] = [];
  let parsed = 0;
  let actions = 0;
  for (let run = 0; run < Math.max(runs, 5) * 2; run++) {
    const sha = run % 2 === 0 ? fleet.headCommit : fleet.baseCommit;
    const started = performance.now();
    const next = await desired(sha, current.placement);
    const plan = computePlan(current, next);
    samples.push(performance.now() - started);
    parsed = next.parsed;
    actions = plan.actions.length;
    current = next;
  }
  console.log(`${'incremental load + place + plan'.padEnd(34)} median ${ms(median(samples))}  (min ${ms(Math.min(...samples))}, max ${ms(Math.max(...samples))})  ${parsed} blob(s) parsed, ${actions} action(s)`);
}

console.log(`fleet: ${jobs} jobs, ${hosts} hosts; ${runs} runs each; node ${process.version}; ${new Date().toISOString()}`);
measureCli('cold validate (HEAD)', ['validate', '--repo', fleetDir, '--ref', fleet.headCommit, '--output', 'json'], 0);
measureCli('cold plan (base → head, 1 job)', ['plan', '--repo', fleetDir, '--base', fleet.baseCommit, '--head', fleet.headCommit, '--output', 'json'], 0);
await measureIncremental(fleet);
