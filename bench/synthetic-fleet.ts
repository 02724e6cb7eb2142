// The synthetic fleet the validate/plan and controller benchmarks share: its size from the command
// line, generated once into bench/.work/ and reused.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateFleet, type GenerateFleetResult } from './generate-fleet.js';

export const median = (samples: readonly number[]) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;

export interface SyntheticFleet extends GenerateFleetResult {
  readonly dir: string;
  readonly jobs: number;
  readonly hosts: number;
  readonly runs: number;
}

/** `--jobs N --hosts N --runs N`; the fleet is generated on first use. */
export async function syntheticFleet(): Promise<SyntheticFleet> {
  const { values } = parseArgs({ options: { jobs: { type: 'string', default: '10000' }, hosts: { type: 'string', default: '5000' }, runs: { type: 'string', default: '5' } } });
  const jobs = Number(values.jobs);
  const hosts = Number(values.hosts);
  const dir = path.resolve(import.meta.dirname, '.work', `fleet-${jobs}-${hosts}`);
  const resultFile = `${dir}.json`;
  let result: GenerateFleetResult;
  if (existsSync(resultFile) && existsSync(dir)) {
    result = JSON.parse(readFileSync(resultFile, 'utf8')) as GenerateFleetResult;
  } else {
    console.error(`generating ${jobs} jobs on ${hosts} hosts in ${dir} ...`);
    result = await generateFleet({ dir, jobs, hosts, force: true });
    writeFileSync(resultFile, JSON.stringify(result));
  }
  return { ...result, dir, jobs, hosts, runs: Number(values.runs) };
}
