// The repo the fleet simulator deploys: `hosts` hosts in clusters of `clusterSize` (one TreeNode
// each, spread over 4 idcs), `jobsPerCluster` jobs per cluster, each job on every host of its
// cluster (so a job has clusterSize instances and a host runs jobsPerCluster), each with a Service
// and a VIP served by two directors. Every job rolls out `maxParallel: 25, minHealthySeconds: 0,
// drainSeconds: 0`: simulated instances have no clients to drain, and the issue's one-job goal (≤ 1 s
// end to end) is about the control plane, which a 2 s drain per batch would hide.
// Written as files and committed with the git CLI; `version` lets a second commit bump jobs.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface SimFleetShape {
  readonly hosts: number;
  readonly jobsPerCluster: number;
  readonly clusterSize: number;
  /** The repo path of a real gzipped tarball and its digest (the echo server of example-repo). */
  readonly artifact: { readonly file: string; readonly sha256: string };
}

export const DIRECTORS = ['lvs-1', 'lvs-2'] as const;
const IDCS = ['lg', 'c3', 'zjy', 'tj'] as const;
const ARTIFACT_PATH = 'artifacts/app.tar.gz';

export const hostName = (index: number) => `sim-${String(index).padStart(5, '0')}`;
/** Each host its own loopback address (DESIGN §3b): 127.10.0.1, 127.10.0.2, ... */
export const hostIp = (index: number) => `127.${10 + Math.floor(index / 62_500)}.${Math.floor(index / 250) % 250}.${(index % 250) + 1}`;
export const jobName = (cluster: number, job: number) => `app-c${String(cluster).padStart(3, '0')}-j${String(job).padStart(2, '0')}`;
export const serviceName = (cluster: number, job: number) => `sim.${jobName(cluster, job)}`;

export function clusterCount(shape: SimFleetShape): number {
  return Math.ceil(shape.hosts / shape.clusterSize);
}

/** Every job of the fleet: its name and its cluster's hosts (indexes). */
export function simJobs(shape: SimFleetShape): { job: string; service: string; hosts: number[] }[] {
  const jobs = [];
  for (let cluster = 0; cluster < clusterCount(shape); cluster++) {
    const hosts = Array.from({ length: Math.min(shape.clusterSize, shape.hosts - cluster * shape.clusterSize) }, (_, i) => cluster * shape.clusterSize + i);
    for (let job = 0; job < shape.jobsPerCluster; job++) jobs.push({ job: jobName(cluster, job), service: serviceName(cluster, job), hosts });
  }
  return jobs;
}

const jobTag = (cluster: number, job: number) => `cop.sim_owt.fleet_pdl.bench_cluster.c${String(cluster).padStart(3, '0')}_service.s${job}_job.${jobName(cluster, job)}`;

function jobFile(shape: SimFleetShape, cluster: number, job: number, version: string): string {
  const vip = `10.${200 + Math.floor(cluster / 250)}.${cluster % 250}.${job + 1}`;
  return `apiVersion: ygg/v1
kind: Job
metadata:
  name: ${jobName(cluster, job)}
  tag: ${jobTag(cluster, job)}
spec:
  version: ${version}
  artifact: { path: ${ARTIFACT_PATH}, sha256: "${shape.artifact.sha256}" }
  command: [bin/server.js, --port, "{{ports.http}}", --host, "{{host.ip}}"]
  ports: { http: ${20_000 + job} }
  health: { tcp: { port: http }, intervalSeconds: 5, timeoutSeconds: 2 }
  rollout: { maxParallel: 25, minHealthySeconds: 0, drainSeconds: 0, autoRevert: true }
---
apiVersion: ygg/v1
kind: Service
metadata: { name: ${serviceName(cluster, job)} }
spec:
  job: ${jobName(cluster, job)}
  port: http
  vip: { address: ${vip}, port: ${20_000 + job}, protocol: TCP, lbAlgo: wrr, lbKind: DR, persistenceSeconds: 0, check: { tcp: {}, connectTimeoutSeconds: 3, delayLoopSeconds: 6 } }
  directors: [${DIRECTORS.join(', ')}]
`;
}

function hostsFile(shape: SimFleetShape): string {
  const docs = Array.from({ length: shape.hosts }, (_, index) => {
    const idc = IDCS[Math.floor(index / shape.clusterSize) % IDCS.length];
    return `apiVersion: ygg/v1\nkind: Host\nmetadata: { name: ${hostName(index)} }\nspec: { ip: ${hostIp(index)}, labels: { idc: ${idc}, rack: r${Math.floor(index / 20)} } }\n`;
  });
  DIRECTORS.forEach((name, index) => docs.push(`apiVersion: ygg/v1\nkind: Host\nmetadata: { name: ${name} }\nspec: { ip: 127.9.0.${index + 1}, labels: { idc: lg, role: lvs } }\n`));
  return docs.join('---\n');
}

function treeFile(shape: SimFleetShape): string {
  return Array.from({ length: clusterCount(shape) }, (_, cluster) => {
    const hosts = simJobs({ ...shape, jobsPerCluster: 1 })[cluster]!.hosts.map(hostName);
    return `apiVersion: ygg/v1\nkind: TreeNode\nmetadata:\n  tag: cop.sim_owt.fleet_pdl.bench_cluster.c${String(cluster).padStart(3, '0')}\nspec:\n  owners: [sim-ops]\n  hosts: [${hosts.join(', ')}]\n`;
  }).join('---\n');
}

/**
 * Writes the fleet into `dir` (a git repo after the first call) and commits it; `versionOf` gives
 * each job's version (default 1.0.0 for all). Returns the commit's sha.
 */
export function commitSimFleet(dir: string, shape: SimFleetShape, message: string, versionOf: (job: string) => string = () => '1.0.0'): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
  mkdirSync(path.join(dir, 'jobs'), { recursive: true });
  mkdirSync(path.join(dir, 'artifacts'), { recursive: true });
  copyFileSync(shape.artifact.file, path.join(dir, ARTIFACT_PATH));
  writeFileSync(path.join(dir, 'ygg.yaml'), 'apiVersion: ygg/v1\nkind: Repo\nspec:\n  etcdPrefix: /ygg/v1\n');
  writeFileSync(path.join(dir, 'hosts.yaml'), hostsFile(shape));
  writeFileSync(path.join(dir, 'tree.yaml'), treeFile(shape));
  for (let cluster = 0; cluster < clusterCount(shape); cluster++) {
    for (let job = 0; job < shape.jobsPerCluster; job++) {
      const name = jobName(cluster, job);
      writeFileSync(path.join(dir, 'jobs', `${name}.yaml`), jobFile(shape, cluster, job, versionOf(name)));
    }
  }
  if (!existsSync(path.join(dir, '.git'))) git('init', '-q', '-b', 'main');
  git('add', '-A');
  execFileSync('git', ['-c', 'user.name=Sim Ops', '-c', 'user.email=sim@example.com', 'commit', '-q', '--allow-empty', '-m', message], { cwd: dir });
  return git('rev-parse', 'HEAD');
}
