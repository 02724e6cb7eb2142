// The identity of an instance's spec: sha256 over the canonical JSON of what the agent runs. The
// rollout policy and the replica count are left out (changing how a job rolls or how many instances
// it has must not restart the instances that run). Thousands of instances are hashed per
// reconcile, so hashes are remembered per (job object, host object): unchanged blobs give the very
// same objects across loads.
import { createHash } from 'node:crypto';
import type { Host, Job, JobSpec } from '../model/types.js';
import { canonicalJson } from '../plan/canonical-json.js';
import { shareValue } from '../store/shared-values.js';

export interface HashedSpec {
  readonly host: Pick<Host, 'name' | 'ip' | 'labels'>;
  readonly spec: JobSpec;
  readonly specHash: string;
}

const remembered = new WeakMap<Job, WeakMap<Host, HashedSpec>>();

export function hashInstanceSpec(job: Job, host: Host): HashedSpec {
  let byHost = remembered.get(job);
  if (!byHost) {
    byHost = new WeakMap();
    remembered.set(job, byHost);
  }
  let hashed = byHost.get(host);
  if (!hashed) {
    // Shared with the mirror's records: written, hashed and held once however many instances name them.
    const hostFacts = shareValue({ name: host.name, ip: host.ip, labels: host.labels });
    const spec = shareValue(job.spec);
    hashed = { host: hostFacts, spec, specHash: computeSpecHash(job.name, job.tag, hostFacts, spec) };
    byHost.set(host, hashed);
  }
  return hashed;
}

export function computeSpecHash(job: string, tag: string, host: HashedSpec['host'], spec: JobSpec): string {
  return createHash('sha256').update(canonicalJson({ job, tag, host, spec: runningSpec(spec) })).digest('hex');
}

/** The part of a spec an instance is made of: without the controller-only fields. */
function runningSpec(spec: JobSpec): Omit<JobSpec, 'rollout' | 'replicas'> {
  const { rollout: _rollout, replicas: _replicas, ...running } = spec;
  return running;
}

const jobHashes = new WeakMap<Job, string>();

/** The host-independent identity of a job's spec: a failed rollout is remembered by it. */
export function hashJobSpec(job: Job): string {
  let hash = jobHashes.get(job);
  if (!hash) {
    hash = createHash('sha256').update(canonicalJson({ job: job.name, tag: job.tag, spec: runningSpec(job.spec) })).digest('hex');
    jobHashes.set(job, hash);
  }
  return hash;
}
