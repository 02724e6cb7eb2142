// Where the agent keeps everything under its root. Every path the agent writes is built here, from
// names that were validated first: a job name or a digest comes from etcd, and a value like
// `../../etc` must never turn into a path outside the root.
//
//   ROOT/jobs/<job>/releases/<specHash>/   one unpacked, configured release (complete once it holds
//                                          the marker file, written last)
//   ROOT/jobs/<job>/current                symlink to the active release
//   ROOT/data/<job>  ROOT/log/<job>        kept across releases
//   ROOT/cache/artifacts/<sha256>          downloaded artifacts, content-addressed
//   ROOT/cache/unpacked/<sha256>/          an artifact unpacked, releases are copied from it
//   ROOT/cache/unpacked/<sha256>.json      its manifest (written last: the tree is complete)
//   ROOT/run/<job>.json                    the supervisor's pid file
import path from 'node:path';
import { RELEASE_MARKER } from '../model/release-layout.js';
import { instanceDirs } from '../plan/render-instance.js';

/** Same rule as Kubernetes names (RFC 1123 label): no dots, slashes or `..`, so no path escapes. */
export const JOB_NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** specHash and artifact digests are sha256 in lowercase hex, as the schema demands. */
export const DIGEST_PATTERN = /^[0-9a-f]{64}$/;
export { RELEASE_MARKER } from '../model/release-layout.js';

export class AgentLayoutError extends Error {
  readonly code = 'E_AGENT_LAYOUT';
  readonly retryable = false;
  constructor(
    readonly field: 'root' | 'job' | 'specHash' | 'sha256',
    readonly value: string,
    reason: string,
  ) {
    super(`invalid ${field} ${JSON.stringify(value)}: ${reason}`);
    this.name = 'AgentLayoutError';
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, field: this.field, value: this.value };
  }
}

export interface JobPaths {
  readonly jobDir: string;
  readonly releasesDir: string;
  /** The symlink the supervisor runs from; also `dirs.release` in templates. */
  readonly current: string;
  readonly dataDir: string;
  readonly logDir: string;
  readonly pidFile: string;
}

/**
 * An absolute, normalised root. Rendered configs embed these paths and the job runs with its
 * release as cwd, so a relative root would point somewhere else for the job than for the agent.
 */
export function agentRoot(root: string): string {
  if (!path.isAbsolute(root)) throw new AgentLayoutError('root', root, 'the agent root must be an absolute path');
  return path.resolve(root);
}

export function assertJobName(job: string): void {
  if (!JOB_NAME_PATTERN.test(job)) throw new AgentLayoutError('job', job, `a job name must match ${JOB_NAME_PATTERN.source}`);
}

export function assertDigest(field: 'specHash' | 'sha256', value: string): void {
  if (!DIGEST_PATTERN.test(value)) throw new AgentLayoutError(field, value, 'expected 64 lowercase hex digits');
}

export function jobPaths(root: string, job: string): JobPaths {
  const base = agentRoot(root);
  assertJobName(job);
  // The template variables come from instanceDirs: one source for the paths a job sees.
  const dirs = instanceDirs(base, job);
  const jobDir = path.join(base, 'jobs', job);
  return {
    jobDir,
    releasesDir: path.join(jobDir, 'releases'),
    current: dirs.release,
    dataDir: dirs.data,
    logDir: dirs.log,
    pidFile: path.join(base, 'run', `${job}.json`),
  };
}

export function releasePath(root: string, job: string, specHash: string): string {
  assertDigest('specHash', specHash);
  return path.join(jobPaths(root, job).releasesDir, specHash);
}

export function releaseMarkerPath(releaseDir: string): string {
  return path.join(releaseDir, RELEASE_MARKER);
}

export function artifactCacheDir(root: string): string {
  return path.join(agentRoot(root), 'cache', 'artifacts');
}

export function unpackedCacheDir(root: string): string {
  return path.join(agentRoot(root), 'cache', 'unpacked');
}
