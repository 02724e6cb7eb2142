// The file system cost of one deploy on an agent, as HostAgent.deploy does it for a version bump
// of a job already running (the fleet simulator's "every job bumped"): prepare the release (the
// unpacked artifact is cached), remove the old pid file, switch `current`, write the new pid file,
// save the assignment, prune releases. Counts the file system requests Node hands to its thread
// pool (async_hooks FSREQPROMISE/FSREQCALLBACK) and the agent's CPU per deploy. Under
// `strace -f -c` it also gives the system calls.
//   node --import tsx bench/deploy-fs.ts [--deploys 400] [--jobs 10]
import { createHook } from 'node:async_hooks';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { jobPaths } from '../src/agent/agent-layout.js';
import { prepareRelease } from '../src/agent/prepare-release.js';
import { removePidFile, writePidFile } from '../src/agent/process-identity.js';
import { saveAssignment } from '../src/agent/saved-assignments.js';
import { activateRelease, pruneReleases } from '../src/agent/switch-release.js';
import { computeSpecHash } from '../src/controller/spec-hash.js';
import type { JobSpec } from '../src/model/types.js';
import type { AssignmentRecord } from '../src/store/records.js';
import { ECHO_ARTIFACT, ECHO_SHA256 } from '../test/fixtures/agent-harness.js';
import { benchFlags } from './bench-flags.js';

const flags = benchFlags('deploy-fs', { deploys: { type: 'string' }, jobs: { type: 'string' } }, ['deploys', 'jobs']);
const DEPLOYS = Number(flags.deploys ?? 400);
const JOBS = Number(flags.jobs ?? 10);
const TAG = 'cop.x_owt.y_pdl.z_cluster.c_service.s_job.app';
const HOST = { name: 'h1', ip: '127.0.0.30', labels: {} };

function assignment(job: string, n: number): AssignmentRecord {
  const spec: JobSpec = {
    version: `1.0.${n}`,
    artifact: { path: 'artifacts/echo.tar.gz', sha256: ECHO_SHA256 },
    command: ['bin/app', '--port', '{{ports.http}}'],
    env: { LOG_LEVEL: 'info' },
    ports: { http: 8000 },
    configs: [{ path: 'conf/app.yaml', template: `listen: {{host.ip}}:{{ports.http}}\ntimeout_ms: ${n}\n` }],
    dependencies: [],
    cron: [],
    rollout: { maxParallel: 1, minHealthySeconds: 10, autoRevert: true, progressDeadlineSeconds: 300, drainSeconds: 0 },
  };
  return { job, tag: TAG, host: HOST, spec, specHash: computeSpecHash(job, TAG, HOST, spec), commit: `c${n}`, assignedAt: '2026-11-28T00:00:00Z' };
}

async function deploy(root: string, record: AssignmentRecord, pid: number): Promise<void> {
  await prepareRelease(record, { root, fetchUrl: () => pathToFileURL(ECHO_ARTIFACT).href });
  const { pidFile } = jobPaths(root, record.job);
  await removePidFile(pidFile);
  await activateRelease(root, record.job, record.specHash);
  await writePidFile(pidFile, { pid, startTime: pid, specHash: record.specHash, startedAt: new Date().toISOString(), command: record.spec.command });
  await saveAssignment(root, record);
  await pruneReleases(root, record.job);
}

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ygg-deploy-fs-'));
const jobs = Array.from({ length: JOBS }, (_, index) => `app-${index}`);
// Warm-up: each job's first deploy (unpack, directories) and enough to reach the kept releases.
for (let n = 0; n < 4; n++) await Promise.all(jobs.map((job) => deploy(root, assignment(job, n), 1)));

// Built before the clock starts: the spec hash is the controller's work, not the agent's.
const rounds = Array.from({ length: Math.floor(DEPLOYS / JOBS) }, (_, index) => jobs.map((job) => assignment(job, 4 + index)));
let requests = 0;
const hook = createHook({
  init: (_id, type) => {
    if (type === 'FSREQPROMISE' || type === 'FSREQCALLBACK') requests++;
  },
}).enable();
const cpuBefore = process.cpuUsage();
const started = performance.now();
for (const [index, records] of rounds.entries()) await Promise.all(records.map((record) => deploy(root, record, 4 + index)));
const elapsedMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
hook.disable();
await fs.rm(root, { recursive: true, force: true });

const deploys = rounds.length * JOBS;
console.log(JSON.stringify({ deploys, fsRequestsPerDeploy: +(requests / deploys).toFixed(1), cpuMsPerDeploy: +((cpu.user + cpu.system) / 1000 / deploys).toFixed(3), userMsPerDeploy: +(cpu.user / 1000 / deploys).toFixed(3), wallMsPerDeploy: +(elapsedMs / deploys).toFixed(3) }));
