// Pruning of ROOT/cache/artifacts/: the downloaded artifacts (tarballs) and dependency files, by
// sha256. Without it a host that deploys a new version every day fills its disk, and a full disk
// stops deploys and logs.
//
// What stays is what a rollback needs. A release still on disk (pruneReleases keeps 3 per job) is
// reused as it is within the boot it was built in; after a reboot it is rebuilt from its
// artifact's unpacked tree (kept while any release names it, see pruneUnpackedTrees) plus its
// dependency files, which come from here. So:
// * the dependency files of every complete release stay;
// * a tarball stays only while its tree is incomplete: once unpacked, releases are copied from the
//   tree, and the tarball is read again only if the tree is lost (then it is simply fetched again);
// * what a preparation of this process is fetching or about to use is held (withArtifactsHeld);
// * a marker from before the dependency list was recorded pins everything: until that release is
//   rebuilt or pruned, nobody can tell which files it needs;
// * downloads in progress (`.partial`) are never pruned here, however stalled: the ones a crashed
//   agent left are removed when the agent starts (removePartialDownloads).
import fs from 'node:fs/promises';
import path from 'node:path';
import { artifactCacheDir, unpackedCacheDir } from './agent-layout.js';
import { CacheHolds } from './cache-holds.js';
import { isPartialDownload, VERIFIED_STAMP_SUFFIX } from './fetch-artifact.js';
import { pruneCacheDir } from './prune-cache-dir.js';
import { releaseInputs } from './switch-release.js';
import { isUnpacked, UNUSED_TREE_GRACE_MS } from './unpacked-artifact.js';

/** Cache files this process's preparations use, by path. */
const held = new CacheHolds();

/**
 * Runs `use` (a release preparation) holding the files of `digests`. When it downloaded anything
 * (it calls `onDownloaded`, see fetchArtifact), the cache grew, so the cache is pruned once the
 * files are let go: by then a release that needs them has its marker, which keeps them.
 */
export async function withArtifactsHeld<T>(root: string, digests: readonly string[], use: (onDownloaded: () => void) => Promise<T>): Promise<T> {
  const files = digests.map((sha256) => path.join(artifactCacheDir(root), sha256));
  for (const file of files) held.hold(file);
  let downloaded = false;
  try {
    return await use(() => (downloaded = true));
  } finally {
    for (const file of files) held.release(file);
    // Housekeeping: a failure to read or remove leaves the files for the next time.
    if (downloaded) await pruneArtifactCache(root).catch(() => undefined);
  }
}

/**
 * Removes the files of the artifact cache no rollback needs and nobody holds, once verified more
 * than the trees' grace ago (the same window, for the same reason). Returns the names removed.
 */
export async function pruneArtifactCache(root: string, nowMs = Date.now()): Promise<string[]> {
  const inputs = await releaseInputs(root);
  if (inputs.dependenciesUnknown) return [];
  const cacheDir = artifactCacheDir(root);
  const pinned = new Set(inputs.dependencies);
  for (const sha256 of inputs.artifacts) {
    if (!(await isUnpacked(unpackedCacheDir(root), sha256))) pinned.add(sha256);
  }
  return pruneCacheDir(cacheDir, {
    sidecarSuffix: VERIFIED_STAMP_SUFFIX,
    keep: (name) => isPartialDownload(name) || pinned.has(name) || held.has(path.join(cacheDir, name)),
    graceMs: UNUSED_TREE_GRACE_MS,
    nowMs,
  });
}

/**
 * Removes the temporary files of downloads cut short by a crash. Only while no download into this
 * root is in flight: when the agent starts, holding the root's lock. Returns the names removed.
 */
export async function removePartialDownloads(root: string): Promise<string[]> {
  const cacheDir = artifactCacheDir(root);
  let names: string[];
  try {
    names = await fs.readdir(cacheDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const partial = names.filter(isPartialDownload);
  for (const name of partial) await fs.rm(path.join(cacheDir, name), { force: true });
  return partial.sort();
}
