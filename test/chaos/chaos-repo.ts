// The fleet repo every chaos scenario runs: three web hosts and one LVS director, each on its own
// loopback address, one job (the example echo server, bound to {{host.ip}}, HTTP health-checked)
// and one Service with a VIP on the director. Commits the scenarios push: a new generation of the
// job (a rollout), an invalid file (rejected whole), a change that touches no instance.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGitFleet, type GitFleet } from '../fixtures/git-fleet.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARTIFACT = 'artifacts/echo-server-1.1.0.tar.gz';

/** 127.0.0.101.. : away from 127.0.0.1 and the low addresses other tests take. */
export const WEB_HOSTS = [
  { name: 'web-1', ip: '127.0.0.101' },
  { name: 'web-2', ip: '127.0.0.102' },
  { name: 'web-3', ip: '127.0.0.103' },
] as const;
export const DIRECTOR = { name: 'lvs-1', ip: '127.0.0.104' } as const;
export const JOB = 'echo';
const SERVICE = 'chaos.echo';

export interface ChaosRepoOptions {
  /** The job's port on every host (a free one: hosts share it, each on its own address). */
  readonly port: number;
  /** Instances of the job; default: one on every web host. */
  readonly replicas?: number;
  readonly rescheduleAfterSeconds?: number;
}

export interface ChaosRepo {
  readonly dir: string;
  /** How many instances the repo asks for. */
  readonly desiredInstances: number;
  /** The job at a new generation (env and version change: every instance rolls). Returns the sha. */
  roll(generation: number): string;
  /** A commit that fails validation: the controller must reject it whole. */
  commitInvalid(serial: number): string;
  /** A valid commit that changes no instance (the tree node's owners). */
  commitHarmless(serial: number): string;
  head(): string;
}

export function createChaosRepo(dir: string, options: ChaosRepoOptions): ChaosRepo {
  mkdirSync(dir, { recursive: true });
  const fleet: GitFleet = createGitFleet(dir);
  mkdirSync(path.join(dir, 'artifacts'), { recursive: true });
  copyFileSync(path.join(REPO_ROOT, 'example-repo', ARTIFACT), path.join(dir, ARTIFACT));
  const artifactSha256 = sha256Of(path.join(dir, ARTIFACT));
  let head = fleet.commit('Chaos fleet: three web hosts, one director, the echo job behind a VIP', {
    'ygg.yaml': repoFile(options.rescheduleAfterSeconds ?? 300),
    'hosts.yaml': hostsFile(),
    'tree.yaml': treeFile('web-ops'),
    'jobs/frontend.yaml': null,
    'jobs/search.yaml': null,
    'jobs/echo.yaml': jobFile(options, artifactSha256, 0, options.port),
    'services.yaml': serviceFile(),
    'artifacts/app.tar.gz': null,
    'files/dict.txt': null,
  });
  const commit = (message: string, changes: Record<string, string>) => (head = fleet.commit(message, changes));
  return {
    dir,
    desiredInstances: options.replicas ?? WEB_HOSTS.length,
    roll: (generation) => commit(`echo generation ${generation}`, { 'jobs/echo.yaml': jobFile(options, artifactSha256, generation, options.port) }),
    commitInvalid: (serial) => commit(`broken echo port (${serial})`, { 'jobs/echo.yaml': jobFile(options, artifactSha256, serial, 'eighty') }),
    commitHarmless: (serial) => commit(`owners (${serial})`, { 'tree.yaml': treeFile(`web-ops-${serial}`) }),
    head: () => head,
  };
}

function sha256Of(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function repoFile(rescheduleAfterSeconds: number): string {
  return `apiVersion: ygg/v1
kind: Repo
spec:
  pruneGuard: { maxDeletePercent: 100 }
  rescheduleAfterSeconds: ${rescheduleAfterSeconds}
`;
}

function hostsFile(): string {
  return [...WEB_HOSTS, DIRECTOR]
    .map((host, index) => `apiVersion: ygg/v1
kind: Host
metadata: { name: ${host.name} }
spec: { ip: ${host.ip}, labels: { idc: a, rack: r${index + 1} } }
`)
    .join('---\n');
}

function treeFile(owner: string): string {
  return `apiVersion: ygg/v1
kind: TreeNode
metadata:
  tag: cop.acme_owt.chaos_pdl.web_cluster.prod
spec:
  owners: [${owner}]
  hosts: [${WEB_HOSTS.map((host) => host.name).join(', ')}]
`;
}

function jobFile(options: ChaosRepoOptions, artifactSha256: string, generation: number, port: number | string): string {
  return `apiVersion: ygg/v1
kind: Job
metadata:
  name: ${JOB}
  tag: cop.acme_owt.chaos_pdl.web_cluster.prod_service.echo_job.${JOB}
spec:
  version: 1.1.${generation}
  artifact: { path: ${ARTIFACT}, sha256: ${artifactSha256} }
  command: [bin/server.js, --port, "{{ports.http}}", --host, "{{host.ip}}", --config, conf/app.yaml]
  env: { GENERATION: "${generation}" }
  ports: { http: ${port} }
  configs:
    - path: conf/app.yaml
      template: |
        name: {{job.name}}
        listen: {{host.ip}}:{{ports.http}}
  health: { http: { port: http, path: /health }, intervalSeconds: 1, timeoutSeconds: 1 }
${options.replicas === undefined ? '' : `  replicas: ${options.replicas}\n`}  rollout: { maxParallel: 1, minHealthySeconds: 0, progressDeadlineSeconds: 30, autoRevert: true }
`;
}

function serviceFile(): string {
  return `apiVersion: ygg/v1
kind: Service
metadata: { name: ${SERVICE} }
spec:
  job: ${JOB}
  port: http
  vip:
    address: 127.0.0.199
    port: 80
    protocol: TCP
    lbAlgo: wrr
    lbKind: NAT
    check: { http: { path: /health, statusCode: 200 }, connectTimeoutSeconds: 2, delayLoopSeconds: 3 }
  directors: [${DIRECTOR.name}]
`;
}
