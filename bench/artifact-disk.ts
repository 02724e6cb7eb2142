// What a host's agent root holds after N deploys in a row of one job, each a new artifact and a new
// dependency file, deployed as the agent does (prepare, switch, keep 3 releases). Between deploys
// the clock is moved past the caches' grace (deploys a day apart). Prints the bytes per area after
// every deploy, with artifact pruning (this agent) and without it (every earlier agent).
//   node --import tsx bench/artifact-disk.ts [--versions 30] [--artifact-mb 4] [--dependency-mb 1]
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tar from 'tar';
import { artifactCacheDir, jobPaths, unpackedCacheDir } from '../src/agent/agent-layout.js';
import { pruneArtifactCache } from '../src/agent/artifact-cache.js';
import { prepareRelease } from '../src/agent/prepare-release.js';
import { activateRelease, pruneReleases, releaseInputs } from '../src/agent/switch-release.js';
import { pruneUnpackedTrees, UNUSED_TREE_GRACE_MS } from '../src/agent/unpacked-artifact.js';
import { computeSpecHash } from '../src/controller/spec-hash.js';
import type { JobSpec } from '../src/model/types.js';
import { benchFlags } from './bench-flags.js';

const flags = benchFlags('artifact-disk', { versions: { type: 'string' }, 'artifact-mb': { type: 'string' }, 'dependency-mb': { type: 'string' } }, ['versions', 'artifact-mb', 'dependency-mb']);
const VERSIONS = Number(flags.versions ?? 30);
const ARTIFACT_BYTES = Number(flags['artifact-mb'] ?? 4) * 1024 * 1024;
const DEPENDENCY_BYTES = Number(flags['dependency-mb'] ?? 1) * 1024 * 1024;
const TAG = 'cop.x_owt.y_pdl.z_cluster.c_service.s_job.daily';
const HOST = { name: 'h1', ip: '127.0.0.30', labels: {} };
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await bytesUnder(full);
    else if (entry.isFile()) total += (await fs.stat(full)).size;
  }
  return total;
}

/** A tarball of random (incompressible) bytes, so tarball, tree and release are each ~ARTIFACT_BYTES. */
async function makeVersion(work: string, n: number): Promise<JobSpec> {
  const stage = path.join(work, `stage-${n}`);
  await fs.mkdir(path.join(stage, 'bin'), { recursive: true });
  await fs.writeFile(path.join(stage, 'bin/payload'), randomBytes(ARTIFACT_BYTES));
  const tarball = path.join(work, `v${n}.tar.gz`);
  await tar.create({ gzip: true, file: tarball, cwd: stage, portable: true }, ['bin']);
  const dependency = path.join(work, `dict-${n}`);
  await fs.writeFile(dependency, randomBytes(DEPENDENCY_BYTES));
  return {
    version: `1.0.${n}`,
    artifact: { url: pathToFileURL(tarball).href, sha256: sha256(await fs.readFile(tarball)) },
    command: ['bin/payload'],
    env: {},
    ports: {},
    configs: [],
    dependencies: [{ path: 'dict/words', url: pathToFileURL(dependency).href, sha256: sha256(await fs.readFile(dependency)) }],
    cron: [],
    rollout: { maxParallel: 1, minHealthySeconds: 10, autoRevert: true, progressDeadlineSeconds: 300, drainSeconds: 0 },
  };
}

async function run(specs: readonly JobSpec[], pruneArtifacts: boolean): Promise<{ max: Record<string, number>; last: Record<string, number> }> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ygg-artifact-disk-'));
  const max: Record<string, number> = {};
  let last: Record<string, number> = {};
  try {
    for (const [n, spec] of specs.entries()) {
      const specHash = computeSpecHash('daily', TAG, HOST, spec);
      await prepareRelease({ job: 'daily', tag: TAG, host: HOST, spec, specHash, commit: `c${n}`, assignedAt: new Date().toISOString() }, { root, fetchUrl: (source) => source.url! });
      await activateRelease(root, 'daily', specHash);
      await pruneReleases(root, 'daily');
      // The next deploy is a day later: past every grace.
      const later = Date.now() + UNUSED_TREE_GRACE_MS + 1000;
      await pruneUnpackedTrees(unpackedCacheDir(root), (await releaseInputs(root)).artifacts, later);
      if (pruneArtifacts) await pruneArtifactCache(root, later);
      last = {
        releases: await bytesUnder(jobPaths(root, 'daily').releasesDir),
        unpacked: await bytesUnder(unpackedCacheDir(root)),
        artifacts: await bytesUnder(artifactCacheDir(root)),
      };
      last['total'] = last['releases']! + last['unpacked']! + last['artifacts']!;
      for (const [area, bytes] of Object.entries(last)) max[area] = Math.max(max[area] ?? 0, bytes);
    }
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
  return { max, last };
}

const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ygg-artifact-versions-'));
try {
  const specs: JobSpec[] = [];
  for (let n = 1; n <= VERSIONS; n += 1) specs.push(await makeVersion(work, n));
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  console.log(`${VERSIONS} versions, artifact ${mb(ARTIFACT_BYTES)}, dependency ${mb(DEPENDENCY_BYTES)}`);
  for (const prune of [true, false]) {
    const { max, last } = await run(specs, prune);
    console.log(`${prune ? 'with' : 'without'} artifact pruning: ${Object.keys(max).map((area) => `${area} max ${mb(max[area]!)} / last ${mb(last[area]!)}`).join(', ')}`);
  }
} finally {
  await fs.rm(work, { recursive: true, force: true });
}
