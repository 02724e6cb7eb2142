// Generates a synthetic fleet repo for benchmarks: ygg.yaml, hosts, cluster TreeNodes, jobs and
// services (DESIGN.md §1 format), committed twice with isomorphic-git — a base commit and a head
// commit that changes exactly one job file.
//
//   npx tsx bench/generate-fleet.ts --out DIR [--jobs 10000] [--hosts 5000] [--force]
//
// Deterministic: the same options give the same files and the same commit SHAs (seeded PRNG,
// fixed commit timestamps). If the `git` CLI is installed, `git gc -q` packs the objects afterwards
// so the repo looks like a real clone (one pack); the commits themselves are made with isomorphic-git.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import git from 'isomorphic-git';
import { isMain } from './is-main.js';

export interface GenerateFleetOptions {
  /** Output directory (the repo's working tree). Must not exist or be empty, unless `force`. */
  dir: string;
  jobs: number;
  hosts: number;
  /** Remove `dir` first if it exists. */
  force?: boolean;
  /** Progress lines; default: stderr. */
  log?: (line: string) => void;
}

export interface GenerateFleetResult {
  baseCommit: string;
  headCommit: string;
  /** Repo-relative path of the one job file the head commit changes. */
  changedFile: string;
}

const IDCS = ['lg', 'c3', 'zjy', 'tj'] as const;
const RACK_SIZE = 20;
const DIRECTORS_PER_IDC = 2;
const JOBS_PER_SERVICE = 5;
const JOBS_PER_CLUSTER = 20;
const CLUSTERS_PER_PDL = 10;
const PDLS_PER_OWT = 5;
const SEED = 0x5eed_2024;
const AUTHOR = { name: 'bench', email: 'bench@example.com', timezoneOffset: 0 };
const BASE_TIMESTAMP = 1_700_000_000; // 2023-11-14T22:13:20Z
const HEAD_TIMESTAMP = BASE_TIMESTAMP + 3600;
const ARTIFACT_PATH = 'artifacts/app.tar.gz';
const WORDS_PATH = 'files/words.txt';

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

/** mulberry32: small, fast, good enough for synthetic data. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function digits(count: number, minimum: number): number {
  return Math.max(minimum, String(Math.max(0, count - 1)).length);
}

// ---------------------------------------------------------------------------------------------
// The fleet as plain data

interface HostPlan {
  name: string;
  ip: string;
  idc: string;
  rack: string;
  state: 'online' | 'spare' | 'maintenance';
  director: boolean;
}

interface ClusterPlan {
  index: number;
  name: string; // c042
  owt: string; // o3
  pdl: string; // p17
  tag: string;
  idc: string;
  hosts?: string[];
  selector?: { idc: string; rack: string };
  jobs: JobPlan[];
}

interface JobPlan {
  index: number;
  name: string; // j04201
  service: ServicePlan;
  cluster: ClusterPlan;
  indexInCluster: number;
  tag: string;
  version: [number, number, number];
  replicas?: number;
  cron: boolean;
  dependency: boolean;
  memoryMB: number;
  cpu: number;
  maxParallel: number;
  logLevel: string;
  workers: number;
  timeoutMs: number;
  runtime: 'java' | 'go' | 'python';
}

interface ServicePlan {
  index: number;
  short: string; // s0420
  name: string; // xiaomi.o3.p17.s0420
  cluster: ClusterPlan;
  jobs: JobPlan[];
  vip?: { address: string; port: number; lbAlgo: string; lbKind: 'DR' | 'NAT'; persistenceSeconds: number; httpCheck: boolean };
}

interface FleetPlan {
  hosts: HostPlan[];
  directorsByIdc: Map<string, string[]>;
  clusters: ClusterPlan[];
  services: ServicePlan[];
  jobs: JobPlan[];
}

function planFleet(jobCount: number, hostCount: number): FleetPlan {
  const random = prng(SEED);
  const directorCount = IDCS.length * DIRECTORS_PER_IDC;
  if (!Number.isInteger(jobCount) || jobCount < 1) throw new Error(`--jobs must be a positive integer, got ${jobCount}`);
  if (!Number.isInteger(hostCount) || hostCount < directorCount + 1) {
    throw new Error(`--hosts must be an integer > ${directorCount} (${directorCount} are LVS directors), got ${hostCount}`);
  }

  // Hosts: regular hosts spread over the idcs in racks of 20, plus 2 directors per idc.
  const regular = hostCount - directorCount;
  const hosts: HostPlan[] = [];
  const racks: { idc: string; rack: string; hosts: HostPlan[] }[] = [];
  const directorsByIdc = new Map<string, string[]>();
  for (let d = 0; d < IDCS.length; d++) {
    const idc = IDCS[d]!;
    const inIdc = Math.floor(regular / IDCS.length) + (d < regular % IDCS.length ? 1 : 0);
    const rackCount = Math.ceil(inIdc / RACK_SIZE);
    if (rackCount > 250) throw new Error(`too many hosts per idc (${inIdc}): at most ${250 * RACK_SIZE}`);
    for (let k = 0; k < inIdc; k++) {
      const rackNo = Math.floor(k / RACK_SIZE) + 1;
      const slot = (k % RACK_SIZE) + 1;
      const rack = `r${pad(rackNo, 2)}`;
      const roll = random();
      const state = roll < 0.02 ? 'spare' : roll < 0.03 ? 'maintenance' : 'online';
      const host: HostPlan = { name: `${idc}-${rack}-${pad(slot, 2)}`, ip: `10.${d + 1}.${rackNo}.${slot}`, idc, rack, state, director: false };
      hosts.push(host);
      if (slot === 1) racks.push({ idc, rack, hosts: [] });
      racks[racks.length - 1]!.hosts.push(host);
    }
    const directors: string[] = [];
    for (let n = 1; n <= DIRECTORS_PER_IDC; n++) {
      const host: HostPlan = { name: `${idc}-lvs-${pad(n, 2)}`, ip: `10.${d + 1}.255.${n}`, idc, rack: 'lvs01', state: 'online', director: true };
      hosts.push(host);
      directors.push(host.name);
    }
    directorsByIdc.set(idc, directors);
  }

  // Service tree: owt > pdl > cluster, ~20 jobs per cluster, 5 jobs per service.
  const clusterCount = Math.max(1, Math.round(jobCount / JOBS_PER_CLUSTER));
  const pdlCount = Math.max(1, Math.ceil(clusterCount / CLUSTERS_PER_PDL));
  const owtCount = Math.max(1, Math.ceil(pdlCount / PDLS_PER_OWT));
  const clusterWidth = digits(clusterCount, 3);
  const pdlWidth = digits(pdlCount, 1);
  const owtWidth = digits(owtCount, 1);

  // ~10% of clusters bind one whole rack by selector; those racks belong to nobody else.
  const fullRacks = racks.filter((r) => r.hosts.length === RACK_SIZE);
  const wantSelectors = clusterCount >= 10 ? Math.floor(clusterCount / 10) : 0;
  const selectorCount = Math.min(wantSelectors, fullRacks.length);
  const selectorRacks: (typeof racks)[number][] = [];
  if (selectorCount > 0) {
    const step = fullRacks.length / selectorCount;
    for (let i = 0; i < selectorCount; i++) selectorRacks.push(fullRacks[Math.floor(i * step)]!);
  }
  const selectorRackSet = new Set(selectorRacks);
  const selectorClusterIndexes = new Set<number>();
  for (let i = 0; i < selectorCount; i++) selectorClusterIndexes.add(Math.min(clusterCount - 1, i * 10 + 5));

  // The other clusters share the remaining non-spare hosts: contiguous, disjoint chunks.
  const pool = racks.filter((r) => !selectorRackSet.has(r)).flatMap((r) => r.hosts.filter((h) => h.state !== 'spare'));
  const listClusterCount = clusterCount - selectorClusterIndexes.size;
  if (listClusterCount > pool.length) {
    throw new Error(`not enough hosts: ${listClusterCount} clusters need hosts but only ${pool.length} are free; raise --hosts or lower --jobs`);
  }

  const clusters: ClusterPlan[] = [];
  let listIndex = 0;
  let selectorIndex = 0;
  for (let c = 0; c < clusterCount; c++) {
    const p = Math.floor((c * pdlCount) / clusterCount);
    const o = Math.floor((p * owtCount) / pdlCount);
    const owt = `o${pad(o, owtWidth)}`;
    const pdl = `p${pad(p, pdlWidth)}`;
    const name = `c${pad(c, clusterWidth)}`;
    const tag = `cop.xiaomi_owt.${owt}_pdl.${pdl}_cluster.${name}`;
    const cluster: ClusterPlan = { index: c, name, owt, pdl, tag, idc: IDCS[0], jobs: [] };
    if (selectorClusterIndexes.has(c)) {
      const rack = selectorRacks[selectorIndex++]!;
      cluster.selector = { idc: rack.idc, rack: rack.rack };
      cluster.idc = rack.idc;
    } else {
      const from = Math.floor((listIndex * pool.length) / listClusterCount);
      const to = Math.floor(((listIndex + 1) * pool.length) / listClusterCount);
      listIndex++;
      const bound = pool.slice(from, to);
      cluster.hosts = bound.map((h) => h.name);
      cluster.idc = bound[0]!.idc;
    }
    clusters.push(cluster);
  }

  // Jobs and services.
  const jobWidth = digits(jobCount, 5);
  const serviceCountEstimate = Math.ceil(jobCount / JOBS_PER_SERVICE) + clusterCount;
  const serviceWidth = digits(serviceCountEstimate, 4);
  const jobs: JobPlan[] = [];
  const services: ServicePlan[] = [];
  for (const cluster of clusters) {
    const from = Math.floor((cluster.index * jobCount) / clusterCount);
    const to = Math.floor(((cluster.index + 1) * jobCount) / clusterCount);
    if (to - from > 1000) throw new Error(`too many jobs per cluster (${to - from}): ports would clash`);
    let service: ServicePlan | undefined;
    for (let j = from; j < to; j++) {
      const indexInCluster = j - from;
      if (indexInCluster % JOBS_PER_SERVICE === 0) {
        const s = services.length;
        const short = `s${pad(s, serviceWidth)}`;
        service = { index: s, short, name: `xiaomi.${cluster.owt}.${cluster.pdl}.${short}`, cluster, jobs: [] };
        services.push(service);
      }
      const name = `j${pad(j, jobWidth)}`;
      const runtime = pick(random, ['java', 'go', 'go', 'python'] as const);
      const job: JobPlan = {
        index: j,
        name,
        service: service!,
        cluster,
        indexInCluster,
        tag: `${cluster.tag}_service.${service!.short}_job.${name}`,
        version: [1 + Math.floor(random() * 3), Math.floor(random() * 20), Math.floor(random() * 10)],
        cron: random() < 0.5,
        dependency: random() < 0.1,
        memoryMB: pick(random, [256, 512, 512, 1024, 2048]),
        cpu: pick(random, [1, 1, 2, 4]),
        maxParallel: pick(random, [1, 1, 2, 3]),
        logLevel: pick(random, ['info', 'info', 'info', 'warn', 'debug']),
        workers: pick(random, [4, 8, 16, 32]),
        timeoutMs: pick(random, [500, 1000, 1500, 3000]),
        runtime,
      };
      if (random() < 0.3) job.replicas = 2;
      jobs.push(job);
      service!.jobs.push(job);
      cluster.jobs.push(job);
    }
  }

  // ~1 service in 4 has an LVS VIP; DR needs the real server's port, NAT may map from 80.
  let vipCount = 0;
  for (const service of services) {
    if (service.index % 4 !== 0) continue;
    const d = IDCS.indexOf(service.cluster.idc as (typeof IDCS)[number]);
    const n = vipCount++;
    const nat = random() < 0.2;
    const front = service.jobs[0]!;
    service.vip = {
      address: `10.${100 + d}.${Math.floor(n / 250)}.${(n % 250) + 1}`,
      port: nat ? 80 : 8000 + front.indexInCluster,
      lbAlgo: pick(random, ['wrr', 'wrr', 'rr', 'wlc', 'lc']),
      lbKind: nat ? 'NAT' : 'DR',
      persistenceSeconds: random() < 0.2 ? 300 : 0,
      httpCheck: random() < 0.3,
    };
  }

  return { hosts, directorsByIdc, clusters, services, jobs };
}

// ---------------------------------------------------------------------------------------------
// Rendering (hand-written YAML: fixed layout, strings quoted where YAML would retype them)

const HEADER = '# Synthetic fleet generated by bench/generate-fleet.ts — do not edit by hand.\n';

function renderRepoConfig(): string {
  return `${HEADER}apiVersion: ygg/v1
kind: Repo
spec:
  etcdPrefix: /ygg/v1
  pruneGuard: { maxDeletePercent: 30 }
  rescheduleAfterSeconds: 300
`;
}

function renderHost(host: HostPlan): string {
  const labels = host.director ? `{ idc: ${host.idc}, rack: ${host.rack}, role: lvs }` : `{ idc: ${host.idc}, rack: ${host.rack} }`;
  return `apiVersion: ygg/v1
kind: Host
metadata: { name: ${host.name} }
spec:
  ip: ${host.ip}
  labels: ${labels}
  state: ${host.state}
`;
}

function renderTreeNode(cluster: ClusterPlan): string {
  const binding = cluster.selector
    ? `  selector: { idc: ${cluster.selector.idc}, rack: ${cluster.selector.rack} }\n`
    : `  hosts:\n${cluster.hosts!.map((h) => `    - ${h}\n`).join('')}`;
  return `apiVersion: ygg/v1
kind: TreeNode
metadata:
  tag: ${cluster.tag}
spec:
  owners: [${cluster.owt}-ops, ${cluster.pdl}-dev]
${binding}`;
}

const RUNTIME_ENV: Record<JobPlan['runtime'], (job: JobPlan) => string> = {
  java: (job) => `, JAVA_OPTS: "-Xmx${Math.floor(job.memoryMB * 0.75)}m"`,
  go: (job) => `, GOMAXPROCS: "${job.cpu}"`,
  python: () => '',
};

function renderJob(job: JobPlan, sha: { artifact: string; words: string }, bumped = false): string {
  const [major, minor, patch] = job.version;
  const version = `${major}.${minor}.${patch + (bumped ? 1 : 0)}`;
  const timeoutMs = bumped ? job.timeoutMs * 2 : job.timeoutMs;
  let out = `apiVersion: ygg/v1
kind: Job
metadata:
  name: ${job.name}
  tag: ${job.tag}
spec:
  version: ${version}
  artifact: { path: ${ARTIFACT_PATH}, sha256: "${sha.artifact}" }
  command: [bin/app, --port, "{{ports.http}}", --admin, "{{ports.admin}}"]
  env: { LOG_LEVEL: ${job.logLevel}${RUNTIME_ENV[job.runtime](job)} }
  ports: { http: ${8000 + job.indexInCluster}, admin: ${9000 + job.indexInCluster} }
  configs:
    - path: conf/app.yaml
      template: |
        listen: {{host.ip}}:{{ports.http}}
        workers: ${job.workers}
        timeout_ms: ${timeoutMs}
`;
  if (bumped) out += `        retries: 3\n`;
  if (job.dependency) {
    out += `  dependencies:\n    - { path: dict/words.txt, source: ${WORDS_PATH}, sha256: "${sha.words}" }\n`;
  }
  if (job.cron) {
    const minute = (job.index * 7) % 60;
    out += `  cron:\n    - { name: clean-logs, schedule: "${minute} * * * *", command: [find, "{{dirs.log}}", -mtime, "+7", -delete] }\n`;
  }
  out += `  health: { http: { port: admin, path: /health }, intervalSeconds: 5, timeoutSeconds: 2 }
  resources: { memoryMB: ${job.memoryMB}, cpu: ${job.cpu} }
`;
  if (job.replicas !== undefined) out += `  replicas: ${job.replicas}\n`;
  out += `  rollout: { maxParallel: ${job.maxParallel}, minHealthySeconds: 10, autoRevert: true }\n`;
  return out;
}

function renderService(service: ServicePlan, directorsByIdc: Map<string, string[]>): string {
  let out = `apiVersion: ygg/v1
kind: Service
metadata: { name: ${service.name} }
spec:
  job: ${service.jobs[0]!.name}
  port: http
`;
  const vip = service.vip;
  if (vip) {
    const check = vip.httpCheck ? '{ http: { path: /health, statusCode: 200 }, connectTimeoutSeconds: 3, delayLoopSeconds: 6 }' : '{ tcp: {}, connectTimeoutSeconds: 3, delayLoopSeconds: 6 }';
    out += `  vip:
    address: ${vip.address}
    port: ${vip.port}
    protocol: TCP
    lbAlgo: ${vip.lbAlgo}
    lbKind: ${vip.lbKind}
    persistenceSeconds: ${vip.persistenceSeconds}
    check: ${check}
  directors: [${directorsByIdc.get(service.cluster.idc)!.join(', ')}]
`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Binary fixtures: a real (tiny, deterministic) tar.gz artifact and a words file

function tarEntry(name: string, content: Buffer, mode: number, mtime: number): Buffer {
  const header = Buffer.alloc(512, 0);
  const field = (offset: number, length: number, value: string) => header.write(value, offset, length, 'ascii');
  const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, '0') + '\0';
  field(0, 100, name);
  field(100, 8, octal(mode, 8));
  field(108, 8, octal(0, 8));
  field(116, 8, octal(0, 8));
  field(124, 12, octal(content.length, 12));
  field(136, 12, octal(mtime, 12));
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  field(265, 32, 'root');
  field(297, 32, 'root');
  let sum = 0;
  for (const byte of header) sum += byte;
  field(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512, 0);
  return Buffer.concat([header, content, padding]);
}

function artifactTarGz(): Buffer {
  const script = Buffer.from('#!/bin/sh\n# Synthetic benchmark job: does nothing, forever.\nexec sleep 2147483647\n');
  const tar = Buffer.concat([tarEntry('bin/app', script, 0o755, BASE_TIMESTAMP), Buffer.alloc(1024, 0)]);
  return gzipSync(tar, { level: 9 });
}

function wordsFile(): string {
  const random = prng(SEED ^ 0xabcdef);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const words: string[] = [];
  for (let i = 0; i < 200; i++) {
    const length = 3 + Math.floor(random() * 8);
    let word = '';
    for (let k = 0; k < length; k++) word += letters[Math.floor(random() * letters.length)];
    words.push(word);
  }
  return words.join('\n') + '\n';
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Generation

function jobFile(job: JobPlan): string {
  return `jobs/${job.cluster.owt}/${job.cluster.pdl}/${job.name}.yaml`;
}

function prepareDir(dir: string, force: boolean): void {
  if (fs.existsSync(dir)) {
    const entries = fs.readdirSync(dir);
    if (entries.length > 0) {
      if (!force) throw new Error(`${dir} exists and is not empty (use --force to replace it)`);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  fs.mkdirSync(dir, { recursive: true });
}

function hasGitCli(): boolean {
  try {
    execFileSync('git', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function generateFleet(options: GenerateFleetOptions): Promise<GenerateFleetResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dir = path.resolve(options.dir);
  const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(2);

  const plan = planFleet(options.jobs, options.hosts);
  prepareDir(dir, options.force ?? false);

  // 1. Write the files.
  let started = performance.now();
  const artifact = artifactTarGz();
  const words = wordsFile();
  const sha = { artifact: sha256(artifact), words: sha256(words) };
  const madeDirs = new Set<string>();
  let fileCount = 0;
  let yamlBytes = 0;
  const write = (relative: string, content: string | Buffer) => {
    const full = path.join(dir, relative);
    const parent = path.dirname(full);
    if (!madeDirs.has(parent)) {
      fs.mkdirSync(parent, { recursive: true });
      madeDirs.add(parent);
    }
    fs.writeFileSync(full, content);
    fileCount++;
    if (relative.endsWith('.yaml')) yamlBytes += Buffer.byteLength(content);
  };
  write(ARTIFACT_PATH, artifact);
  write(WORDS_PATH, words);
  write('ygg.yaml', renderRepoConfig());
  for (const host of plan.hosts) write(`hosts/${host.idc}/${host.name}.yaml`, renderHost(host));
  for (const cluster of plan.clusters) write(`tree/${cluster.owt}/${cluster.name}.yaml`, renderTreeNode(cluster));
  for (const job of plan.jobs) write(jobFile(job), renderJob(job, sha));
  for (const service of plan.services) write(`services/${service.name}.yaml`, renderService(service, plan.directorsByIdc));
  log(
    `generate-fleet: wrote ${fileCount} files (${plan.hosts.length} hosts, ${plan.clusters.length} tree nodes, ` +
      `${plan.jobs.length} jobs, ${plan.services.length} services; ${(yamlBytes / 1e6).toFixed(2)} MB of YAML) in ${seconds(started)} s`,
  );

  // 2. git init + add + commit (isomorphic-git).
  started = performance.now();
  await git.init({ fs, dir, defaultBranch: 'main' });
  // Fastest measured on 17,500 files: one add of the top-level entries with `force: true` and
  // `parallel: false` (~10–14 s). Without force, the ignore check scans the whole index once per
  // untracked path (quadratic); `parallel: true` thrashes (15–23 s); batches of paths rewrite the
  // index per batch (11–15 s). force is safe because we wrote every file ourselves — but it also
  // drops the built-in exclusion of `.git`, so the top-level entries are listed without it.
  const cache = {};
  const topLevel = fs.readdirSync(dir).filter((name) => name !== '.git').sort();
  await git.add({ fs, dir, filepath: topLevel, cache, force: true, parallel: false });
  log(`generate-fleet: git add of ${fileCount} files in ${seconds(started)} s`);

  started = performance.now();
  const baseCommit = await git.commit({
    fs,
    dir,
    cache,
    message: `fleet: ${plan.hosts.length} hosts, ${plan.jobs.length} jobs, ${plan.services.length} services\n`,
    author: { ...AUTHOR, timestamp: BASE_TIMESTAMP },
    committer: { ...AUTHOR, timestamp: BASE_TIMESTAMP },
  });
  log(`generate-fleet: base commit ${baseCommit} in ${seconds(started)} s`);

  // 3. Head commit: one job without `replicas` gets a new version and config template.
  started = performance.now();
  const middle = Math.floor(plan.jobs.length / 2);
  const changed = plan.jobs.slice(middle).find((j) => j.replicas === undefined) ?? plan.jobs.find((j) => j.replicas === undefined) ?? plan.jobs[middle]!;
  const changedFile = jobFile(changed);
  fs.writeFileSync(path.join(dir, changedFile), renderJob(changed, sha, true));
  await git.add({ fs, dir, filepath: changedFile, cache });
  const headCommit = await git.commit({
    fs,
    dir,
    cache,
    message: `${changed.name}: new version, double timeout_ms, add retries\n`,
    author: { ...AUTHOR, timestamp: HEAD_TIMESTAMP },
    committer: { ...AUTHOR, timestamp: HEAD_TIMESTAMP },
  });
  log(`generate-fleet: head commit ${headCommit} (changes ${changedFile}) in ${seconds(started)} s`);

  // 4. Pack like a real clone, if the git CLI is around (bench setup only).
  if (hasGitCli()) {
    started = performance.now();
    execFileSync('git', ['gc', '-q'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    log(`generate-fleet: git gc -q (git CLI) in ${seconds(started)} s`);
  } else {
    log('generate-fleet: git CLI not found; objects stay loose');
  }

  return { baseCommit, headCommit, changedFile };
}

// ---------------------------------------------------------------------------------------------
// Script entry

const USAGE = 'usage: npx tsx bench/generate-fleet.ts --out DIR [--jobs 10000] [--hosts 5000] [--force]';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        out: { type: 'string' },
        jobs: { type: 'string', default: '10000' },
        hosts: { type: 'string', default: '5000' },
        force: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const jobs = Number(values.jobs);
  const hosts = Number(values.hosts);
  if (!values.out || !Number.isInteger(jobs) || !Number.isInteger(hosts)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const started = performance.now();
  try {
    const result = await generateFleet({ dir: values.out, jobs, hosts, force: values.force });
    process.stderr.write(`generate-fleet: done in ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`generate-fleet: ${(error as Error).message}\n`);
    return 1;
  }
}

if (isMain(import.meta.url)) process.exitCode = await main();
