// Switches a job's `current` symlink between prepared releases, and removes releases nobody will
// roll back to. The switch is one rename(2) of a fresh symlink over `current`: a reader (the
// supervisor, a restart after a crash) sees the old target or the new one, never no link at all.
import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { JOB_NAME_PATTERN, jobPaths, releaseMarkerPath, releasePath } from './agent-layout.js';
import { readJsonFile } from './read-json-file.js';
import { removeEntry } from './remove-tree.js';

export type ReleaseSwitchErrorCode = 'E_RELEASE_NOT_READY' | 'E_CURRENT_NOT_SYMLINK';

export class ReleaseSwitchError extends Error {
  readonly retryable = false;
  constructor(
    readonly code: ReleaseSwitchErrorCode,
    readonly job: string,
    reason: string,
  ) {
    super(`job ${job}: ${reason}`);
    this.name = 'ReleaseSwitchError';
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, job: this.job };
  }
}

/**
 * Points `current` at releases/<specHash>, which must be complete (prepared, marker present).
 * Returns the specHash that was active before, if any, so the caller can report or revert.
 */
export async function activateRelease(root: string, job: string, specHash: string): Promise<{ previous?: string }> {
  const paths = jobPaths(root, job);
  const releaseDir = releasePath(root, job, specHash);
  if (!(await exists(releaseMarkerPath(releaseDir)))) {
    throw new ReleaseSwitchError('E_RELEASE_NOT_READY', job, `release ${specHash} is not prepared (no ${path.basename(releaseMarkerPath(releaseDir))})`);
  }
  const previous = await activeRelease(root, job);
  // Relative, so the agent root can be moved or bind-mounted without breaking the link.
  const target = path.relative(paths.jobDir, releaseDir);
  const temporary = path.join(paths.jobDir, `.current-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fs.symlink(target, temporary);
  try {
    await fs.rename(temporary, paths.current);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
  return previous === undefined ? {} : { previous };
}

/** The specHash `current` points at; undefined when no release was ever activated. */
export async function activeRelease(root: string, job: string): Promise<string | undefined> {
  const { current } = jobPaths(root, job);
  try {
    return path.basename(await fs.readlink(current));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // Something else sits there (a directory someone made by hand): never replace it silently.
    if (code === 'EINVAL') throw new ReleaseSwitchError('E_CURRENT_NOT_SYMLINK', job, `${current} exists and is not a symlink`);
    throw error;
  }
}

/**
 * Keeps `keep` releases in all: the active one plus the most recently prepared others (by the
 * mtime of their marker). Removes the rest, incomplete releases and leftover staging directories.
 * Must not run while a release of the same job is being prepared (the agent serialises a job's
 * work); returns the names removed.
 */
export async function pruneReleases(root: string, job: string, keep = 3): Promise<string[]> {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`keep must be a positive integer, got ${keep}`);
  const { releasesDir } = jobPaths(root, job);
  const active = await activeRelease(root, job);
  let entries: Dirent[];
  try {
    // Typed entries: removing one needs no lstat of it.
    entries = await fs.readdir(releasesDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const complete: { name: string; mtimeMs: number }[] = [];
  const doomed: string[] = [];
  for (const { name } of entries) {
    const mtimeMs = name.startsWith('.') ? undefined : await markerMtime(path.join(releasesDir, name));
    if (mtimeMs === undefined) {
      if (name !== active) doomed.push(name);
    } else {
      complete.push({ name, mtimeMs });
    }
  }
  // Newest first; the name breaks ties so the outcome does not depend on readdir order.
  complete.sort((a, b) => b.mtimeMs - a.mtimeMs || a.name.localeCompare(b.name));
  const kept = new Set(active === undefined ? [] : [active]);
  for (const release of complete) {
    if (kept.size < keep || kept.has(release.name)) kept.add(release.name);
    else doomed.push(release.name);
  }
  for (const entry of entries) if (doomed.includes(entry.name)) await removeEntry(releasesDir, entry);
  return doomed.sort();
}

/**
 * The controller removed the job: its releases and `current` go, and with them what pins its
 * artifacts in the caches (data/<job> and log/<job> stay: they are the job's, not a release's).
 * Only once nothing runs from them: the supervisor removes the pid file when it has stopped the
 * process, so while the file is there (a stop that gave up, an instance never adopted) they stay.
 * Returns whether they were removed.
 */
export async function removeJobReleases(root: string, job: string): Promise<boolean> {
  const paths = jobPaths(root, job);
  if (await exists(paths.pidFile)) return false;
  await fs.rm(paths.jobDir, { recursive: true, force: true });
  return true;
}

/** What the complete releases on this host were built from: a rebuild of any of them needs these. */
export interface ReleaseInputs {
  /** Artifacts (sha256), unpacked into the trees releases are copied from. */
  readonly artifacts: Set<string>;
  /** Dependency files (sha256), copied from the artifact cache into each release. */
  readonly dependencies: Set<string>;
  /** Some release's marker predates the list of dependencies: which files it needs is not known. */
  readonly dependenciesUnknown: boolean;
}

export async function releaseInputs(root: string): Promise<ReleaseInputs> {
  const jobsDir = path.dirname(jobPaths(root, 'x').jobDir);
  const artifacts = new Set<string>();
  const dependencies = new Set<string>();
  let dependenciesUnknown = false;
  for (const job of await fs.readdir(jobsDir).catch(() => [] as string[])) {
    if (!JOB_NAME_PATTERN.test(job)) continue;
    const { releasesDir } = jobPaths(root, job);
    for (const name of await fs.readdir(releasesDir).catch(() => [] as string[])) {
      const marker = await readJsonFile<{ artifactSha256?: unknown; dependencySha256s?: unknown }>(releaseMarkerPath(path.join(releasesDir, name))).catch(() => undefined);
      if (typeof marker?.artifactSha256 !== 'string') continue;
      artifacts.add(marker.artifactSha256);
      if (!Array.isArray(marker.dependencySha256s)) dependenciesUnknown = true;
      else for (const sha256 of marker.dependencySha256s) if (typeof sha256 === 'string') dependencies.add(sha256);
    }
  }
  return { artifacts, dependencies, dependenciesUnknown };
}

async function markerMtime(releaseDir: string): Promise<number | undefined> {
  try {
    return (await fs.stat(releaseMarkerPath(releaseDir))).mtimeMs;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.stat(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
