// Gives each job that takes secrets the version of each one, as `spec.secretVersions`: part of the
// spec hash, so `ygg secret set` rolls exactly the jobs that use the secret, through the same
// rolling, health-gated rollout as a commit. Pure: the versions are read by the caller.
//
// A secret the store lacks is held, never guessed: the version the job's assignments in force carry
// stays (a secret removed by hand or lost in an etcd wipe restarts nothing). A secret that neither
// the store nor any assignment knows is missing: the commit that references it is rejected.
import type { Job, JobSpec, Model } from '../model/types.js';
import { jobSecrets } from '../model/secret-references.js';
import type { SecretVersion } from '../store/secret-store.js';
import { assignmentsByJob, type ObservedState } from './observed-state.js';

export interface MissingSecret {
  readonly job: string;
  readonly secret: string;
}

export interface ResolvedSecrets {
  /** The model, its secret-taking jobs carrying versions; the very same model when no job takes one. */
  readonly model: Model;
  readonly missing: readonly MissingSecret[];
}

type Versions = NonNullable<JobSpec['secretVersions']>;

/** The same job with the same versions is the same object across reconciles: hashes and settled jobs stay remembered. */
const derivedJobs = new WeakMap<Job, { signature: string; job: Job }>();
const derivedModels = new WeakMap<Model, { signature: string; resolved: ResolvedSecrets }>();

export function resolveSecrets(model: Model, versions: ReadonlyMap<string, SecretVersion>, observed: ObservedState): ResolvedSecrets {
  const takers = [...model.jobs.values()].filter((job) => jobSecrets(job.spec).length > 0);
  if (takers.length === 0) return { model, missing: [] };
  const missing: MissingSecret[] = [];
  const jobs = new Map(model.jobs);
  const signatures: string[] = [];
  for (const job of takers) {
    const resolved: Record<string, SecretVersion> = {};
    for (const secret of jobSecrets(job.spec)) {
      const version = versions.get(secret) ?? versionInForce(observed, job.name, secret);
      if (version) resolved[secret] = { version: version.version, revision: version.revision };
      else missing.push({ job: job.name, secret });
    }
    const derived = withVersions(job, resolved);
    jobs.set(job.name, derived);
    signatures.push(`${job.name}\0${versionSignature(resolved)}`);
  }
  const signature = signatures.join('\n');
  const remembered = derivedModels.get(model);
  if (remembered?.signature === signature) return remembered.resolved;
  const resolved = { model: { ...model, jobs }, missing };
  derivedModels.set(model, { signature, resolved });
  return resolved;
}

function withVersions(job: Job, versions: Versions): Job {
  const signature = versionSignature(versions);
  const remembered = derivedJobs.get(job);
  if (remembered?.signature === signature) return remembered.job;
  const derived: Job = { ...job, spec: { ...job.spec, secretVersions: versions } };
  derivedJobs.set(job, { signature, job: derived });
  return derived;
}

function versionSignature(versions: Versions): string {
  return Object.entries(versions)
    .map(([name, { version, revision }]) => `${name}@${version}:${revision}`)
    .join(',');
}

/** The version of a secret the job's assignments carry (the newest revision if they differ mid-rollout). */
function versionInForce(observed: ObservedState, job: string, secret: string): SecretVersion | undefined {
  let found: SecretVersion | undefined;
  for (const { record } of assignmentsByJob(observed).get(job)?.values() ?? []) {
    const version = record.spec.secretVersions?.[secret];
    if (version && (!found || Number(version.revision) > Number(found.revision))) found = version;
  }
  return found;
}

/** The reasons a commit is rejected for, one per missing secret, saying what to do. */
export function describeMissingSecrets(missing: readonly MissingSecret[]): string[] {
  return missing.map(({ job, secret }) => `job ${job} references secret ${secret}, which is not in the store: ygg secret set ${secret} --from-file FILE`);
}
