// Turns an assignment into a complete release directory, ready to be activated: artifact fetched,
// verified and unpacked, dependency files placed, config files rendered. It never touches
// `current`: switching is a separate step, so any failure here leaves the running release alone.
//
// The release is built in a staging directory and renamed to releases/<specHash> at the end, with
// a marker written last inside it. So releases/<specHash> is either complete or absent, and a
// crash at any point costs only a leftover staging directory (pruneReleases removes those).
// The artifact is unpacked once per host (unpacked-artifact.ts); a release copies that tree.
//
// Durability without an fsync per release: the marker names the boot it was written in, and a
// release from an earlier boot is rebuilt instead of reused. A crash of the agent leaves its
// unflushed writes in the page cache, so within one boot a marker means complete files; only a
// crash of the machine can tear them, and that is a new boot. Where the boot cannot be told
// (no /proc), the release's files are fsynced before the marker instead.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Artifact, DependencyFile, Host, Job } from '../model/types.js';
import { jobSecrets, templateSecrets } from '../model/secret-references.js';
import { instanceDirs, renderInstance, secretMark, type InstanceSpec, type SecretValues } from '../plan/render-instance.js';
import { SecretError, type SecretVersion } from '../store/secret-store.js';
import type { AssignmentRecord } from '../store/records.js';
import { agentRoot, artifactCacheDir, assertDigest, jobPaths, releaseMarkerPath, releasePath, RELEASE_MARKER, unpackedCacheDir } from './agent-layout.js';
import { withArtifactsHeld } from './artifact-cache.js';
import { currentBootId } from './boot-id.js';
import { ensureDirectory, inDirectory } from './ensure-directory.js';
import { fetchArtifact } from './fetch-artifact.js';
import { readJsonFile } from './read-json-file.js';
import { ArchiveUnpackError } from './unpack-archive.js';
import { unlinkIfPresent } from './remove-tree.js';
import { releaseInputs } from './switch-release.js';
import { copyTree, forgetTree, listTree, releaseTree, syncTree, unpackedTree } from './unpacked-artifact.js';

export interface PrepareReleaseOptions {
  /** The agent root (absolute). */
  readonly root: string;
  /**
   * Where to fetch an artifact or dependency from: its own `url`, or for a repo `path`/`source`
   * the controller's content endpoint (`${controllerUrl}/content/${sha256}`).
   */
  readonly fetchUrl: (source: Artifact | DependencyFile) => string;
  readonly signal?: AbortSignal;
  /** Per fetched file. */
  readonly timeoutMs?: number;
  /** The value of a secret at the version the assignment names (from the store, with the host's credential). */
  readonly readSecret?: (name: string, version: SecretVersion) => Promise<string>;
}

export interface PreparedRelease {
  readonly releaseDir: string;
  readonly rendered: InstanceSpec;
  /** True when a complete release of this specHash was already there and nothing was written. */
  readonly reused: boolean;
}

/** The contents of the marker: enough to tell, on the host, what a release directory is. */
export interface ReleaseMarker {
  readonly job: string;
  readonly specHash: string;
  readonly version: string;
  readonly artifactSha256: string;
  /** The dependency files a rebuild copies in (the artifact cache keeps them); absent from older agents' markers. */
  readonly dependencySha256s?: readonly string[];
  readonly commit: string;
  readonly preparedAt: string;
  /** The boot it was prepared in (see the top of this file); absent from older agents' markers. */
  readonly bootId?: string;
}

/** The spec asks for something the agent refuses to do (a path outside the release, a bad mode). */
export class ReleaseSpecError extends Error {
  readonly code = 'E_RELEASE_SPEC';
  readonly retryable = false;
  constructor(
    readonly job: string,
    readonly problems: readonly string[],
  ) {
    super(`job ${job}: ${problems.join('; ')}`);
    this.name = 'ReleaseSpecError';
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, job: this.job, problems: this.problems };
  }
}

const DEFAULT_FILE_MODE = 0o644;
/** Group and others lose every bit on a file holding a secret: 0644 → 0600, 0755 → 0700. */
const SECRET_FILE_MASK = 0o700;
const SECRET_RELEASE_MODE = 0o750;

/** The values of the secrets the assignment names, each at its assigned version; none read when it names none. */
async function readSecrets(assignment: AssignmentRecord, options: PrepareReleaseOptions): Promise<SecretValues> {
  const versions = assignment.spec.secretVersions ?? {};
  const names = jobSecrets(assignment.spec);
  if (names.length === 0) return secretMark;
  const values = new Map<string, string>();
  for (const name of names) {
    const version = versions[name];
    if (!version || !options.readSecret) throw new SecretError('E_SECRET_MISSING', `secret ${name} has no version in the assignment: waiting for the controller`, name);
    values.set(name, await options.readSecret(name, version));
  }
  return (name) => values.get(name)!;
}

export async function prepareRelease(assignment: AssignmentRecord, options: PrepareReleaseOptions): Promise<PreparedRelease> {
  const root = agentRoot(options.root);
  const paths = jobPaths(root, assignment.job);
  assertDigest('specHash', assignment.specHash);
  const releaseDir = releasePath(root, assignment.job, assignment.specHash);

  // Pure and first: a template error must stop the deploy before anything is fetched or written.
  const dirs = instanceDirs(root, assignment.job);
  const checked = renderInstance(jobOf(assignment), hostOf(assignment), dirs);
  const modes = checkSpec(assignment, checked);
  const secretFiles = new Set(assignment.spec.configs.filter((config) => templateSecrets(config.template).length > 0).map((config) => config.path));
  const secrets = await readSecrets(assignment, options);
  // Without secrets the check's rendering is the real one.
  const rendered = secrets === secretMark ? checked : renderInstance(jobOf(assignment), hostOf(assignment), dirs, secrets);

  // Data and logs belong to the job, not to a release: created once, never removed here. Asked
  // every deploy (one mkdir each): the job, not the agent, would miss one deleted by hand.
  await Promise.all([ensureDirectory(paths.dataDir), ensureDirectory(paths.logDir)]);

  const bootId = await currentBootId();
  if (await isComplete(releaseDir, assignment.specHash, bootId)) {
    // Re-preparing marks the release as recently wanted, so pruning keeps it (see pruneReleases).
    const now = new Date();
    await fs.utimes(releaseMarkerPath(releaseDir), now, now);
    return { releaseDir, rendered, reused: true };
  }

  const cacheDir = artifactCacheDir(root);
  const dependencySha256s = assignment.spec.dependencies.map((dependency) => dependency.sha256);
  // Held from before the fetch until the marker (which keeps them from then on) is written.
  return withArtifactsHeld(root, [assignment.spec.artifact.sha256, ...dependencySha256s], async (onDownloaded) => {
    const fetchOptions = { onDownloaded, ...(options.signal ? { signal: options.signal } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) };
    const tree = await unpackedTree(unpackedCacheDir(root), assignment.spec.artifact.sha256, {
      archive: () => fetchArtifact({ url: options.fetchUrl(assignment.spec.artifact), sha256: assignment.spec.artifact.sha256 }, cacheDir, fetchOptions),
      inUse: async () => (await releaseInputs(root)).artifacts,
    });
    // Held until the release is built: pruning (after another job's new unpack) must leave it alone.
    try {
      const dependencies: { path: string; cached: string }[] = [];
      for (const dependency of assignment.spec.dependencies) {
        const cached = await fetchArtifact({ url: options.fetchUrl(dependency), sha256: dependency.sha256 }, cacheDir, fetchOptions);
        dependencies.push({ path: dependency.path, cached });
      }

      const staging = path.join(paths.releasesDir, `.${assignment.specHash}.stage-${process.pid}-${randomBytes(4).toString('hex')}`);
      try {
        await inDirectory(paths.releasesDir, () => fs.mkdir(staging, { mode: 0o755 }));
        // Without symlinks in the tree every directory of the release is a real one made here, so a
        // placed file cannot resolve outside it (checkSpec refused `..` and absolute paths).
        const realRelease = tree.entries.some((entry) => entry.type === 'symlink') ? await fs.realpath(staging) : undefined;
        await copyTree(tree, staging).catch(async (error: unknown) => {
          // The tree lost files (removed by hand): unpacked again by the retry.
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') await forgetTree(tree);
          throw classifyCopy(error, tree.dir, staging);
        });
        for (const dependency of dependencies) {
          await placeFile(assignment.job, staging, realRelease, dependency.path, (file) => fs.copyFile(dependency.cached, file, fs.constants.COPYFILE_FICLONE), DEFAULT_FILE_MODE);
        }
        for (const config of rendered.configs) {
          const mode = modes.get(config.path) ?? DEFAULT_FILE_MODE;
          // A file holding a secret is the job user's alone, whatever mode the repo asks for.
          await placeFile(assignment.job, staging, realRelease, config.path, (file) => fs.writeFile(file, config.content, { flag: 'wx', mode: 0o600 }), secretFiles.has(config.path) ? mode & SECRET_FILE_MASK : mode);
        }
        // Not world-readable: other users of the host could otherwise list and open what it holds.
        if (secretFiles.size > 0) await fs.chmod(staging, SECRET_RELEASE_MODE);
        const marker: ReleaseMarker = {
          job: assignment.job,
          specHash: assignment.specHash,
          version: assignment.spec.version,
          artifactSha256: assignment.spec.artifact.sha256,
          dependencySha256s,
          commit: assignment.commit,
          preparedAt: new Date().toISOString(),
          ...(bootId !== undefined && { bootId }),
        };
        if (bootId === undefined) await syncTree(staging, await listTree(staging));
        await fs.writeFile(releaseMarkerPath(staging), `${JSON.stringify(marker, null, 2)}\n`, { flag: 'wx' });
        // Nearly always nothing is in the way: rename first, look only when that fails.
        const renamed = await fs.rename(staging, releaseDir).then(
          () => true,
          (error: unknown) => {
            if (!['ENOTEMPTY', 'EEXIST', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
            return false;
          },
        );
        if (renamed) return { releaseDir, rendered, reused: false };
        // Someone finished the same release meanwhile (the agent should not let that happen): theirs
        // may be active already, so it stays and ours goes.
        if (await isComplete(releaseDir, assignment.specHash, bootId)) {
          await fs.rm(staging, { recursive: true, force: true });
          return { releaseDir, rendered, reused: true };
        }
        // Left by a crash (no marker) or from an earlier boot: rebuilt, ours replaces it.
        await fs.rm(releaseDir, { recursive: true, force: true });
        await fs.rename(staging, releaseDir);
        return { releaseDir, rendered, reused: false };
      } catch (error) {
        await fs.rm(staging, { recursive: true, force: true });
        throw error;
      }
    } finally {
      releaseTree(tree);
    }
  });
}

/** Copying the unpacked tree failed: a full disk, or a tree that lost files (both pass), typed as unpacking. */
function classifyCopy(error: unknown, treeDir: string, dest: string): ArchiveUnpackError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new ArchiveUnpackError('E_DISK_FULL', treeDir, dest, 'no space left on the device', true, { cause: error });
  return new ArchiveUnpackError('E_UNPACK_FAILED', treeDir, dest, (error as Error).message, true, { cause: error });
}

/** Reads a release's marker; undefined when the release is incomplete or not this one. */
export async function readReleaseMarker(releaseDir: string): Promise<ReleaseMarker | undefined> {
  return readJsonFile<ReleaseMarker>(releaseMarkerPath(releaseDir));
}

/**
 * Marked complete for this spec, in this boot. A marker without a boot (an older agent's) is
 * trusted as it was then: rebuilding would pull the release from under an instance it adopts.
 */
async function isComplete(releaseDir: string, specHash: string, bootId: string | undefined): Promise<boolean> {
  const marker = await readReleaseMarker(releaseDir);
  return marker?.specHash === specHash && (marker.bootId === undefined || marker.bootId === bootId);
}

/**
 * Writes one file at a relative path inside the release. The archive may already hold something
 * there (a default config, a symlink): it is removed first, so the write never follows a link.
 * `realRelease` is the release's real path when the archive has symlinks, undefined when it has none.
 */
async function placeFile(job: string, releaseDir: string, realRelease: string | undefined, relative: string, write: (file: string) => Promise<void>, mode: number): Promise<void> {
  const file = path.join(releaseDir, relative);
  await fs.mkdir(path.dirname(file), { recursive: true });
  if (realRelease !== undefined) {
    // Directories of the archive may be symlinks (checked to stay inside it); check the real place.
    const realParent = await fs.realpath(path.dirname(file));
    if (realParent !== realRelease && !realParent.startsWith(`${realRelease}${path.sep}`)) {
      throw new ReleaseSpecError(job, [`${relative}: its directory resolves outside the release`]);
    }
  }
  await unlinkIfPresent(file);
  await write(file);
  // Explicitly, because the mode given at creation is cut by the umask.
  await fs.chmod(file, mode);
}

/** Every file the spec places must stay inside the release; collects all problems at once. */
function checkSpec(assignment: AssignmentRecord, rendered: InstanceSpec): Map<string, number> {
  const problems: string[] = [];
  const modes = new Map<string, number>();
  const seen = new Set<string>();
  const checkPath = (kind: string, relative: string) => {
    const normalised = path.posix.normalize(relative);
    if (relative === '' || path.posix.isAbsolute(relative) || normalised === '.' || normalised.split('/').includes('..')) {
      problems.push(`${kind} ${JSON.stringify(relative)}: must be a relative path inside the release`);
    } else if (normalised === RELEASE_MARKER) {
      problems.push(`${kind} ${JSON.stringify(relative)}: is reserved for the agent`);
    } else if (seen.has(normalised)) {
      problems.push(`${kind} ${JSON.stringify(relative)}: is placed twice`);
    }
    seen.add(normalised);
  };
  for (const dependency of assignment.spec.dependencies) {
    checkPath('dependency', dependency.path);
    try {
      assertDigest('sha256', dependency.sha256);
    } catch (error) {
      problems.push(`dependency ${JSON.stringify(dependency.path)}: ${(error as Error).message}`);
    }
  }
  for (const config of rendered.configs) {
    checkPath('config', config.path);
    if (config.mode === undefined) continue;
    if (!/^0?[0-7]{3,4}$/.test(config.mode)) problems.push(`config ${JSON.stringify(config.path)}: mode ${JSON.stringify(config.mode)} is not octal`);
    else modes.set(config.path, Number.parseInt(config.mode, 8));
  }
  if (problems.length > 0) throw new ReleaseSpecError(assignment.job, problems);
  return modes;
}

/** renderInstance takes model objects; an assignment carries what it reads from them. */
function jobOf(assignment: AssignmentRecord): Job {
  return { name: assignment.job, tag: assignment.tag, spec: assignment.spec, origin: { file: `assign/${assignment.host.name}/${assignment.job}`, docIndex: 0 } };
}

function hostOf(assignment: AssignmentRecord): Host {
  // Only online hosts get assignments; origin is unused by rendering.
  return { ...assignment.host, state: 'online', origin: { file: `agents/${assignment.host.name}`, docIndex: 0 } };
}
