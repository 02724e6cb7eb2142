// Each artifact is unpacked once per host, into ROOT/cache/unpacked/<sha256>/, and every release
// built from it is a copy of that tree. Unpacking (gunzip, the tar parser, the safety checks) was
// most of a release preparation's CPU, and a host runs many releases of few artifacts (a version
// bump of the spec alone, several jobs of one artifact).
//
// Copies, not hard links: a job may write into its own release directory (a pid file, a cache),
// and through a hard link that write would change the cached tree and every other release sharing
// the inode. copyFile asks for a reflink (COPYFILE_FICLONE) where the file system has them (btrfs,
// XFS) and copies the bytes elsewhere.
//
// Complete or absent: the tree is unpacked beside its place and renamed in (unpackArchive), then
// its files and directories are fsynced, and only then is its manifest (<sha256>.json: every entry
// with its type and mode) written, fsynced and renamed into place. A tree counts only with its
// manifest, so a crash at any point costs a re-unpack, never a release copied from torn files.
import fs from 'node:fs/promises';
import path from 'node:path';
import { CacheHolds } from './cache-holds.js';
import { pruneCacheDir } from './prune-cache-dir.js';
import { readJsonFile } from './read-json-file.js';
import { unpackArchive } from './unpack-archive.js';

/** One entry of a tree, in pre-order (a directory before what it holds). */
export interface TreeEntry {
  /** Relative to the tree, `/`-separated. */
  readonly path: string;
  readonly type: 'dir' | 'file' | 'symlink';
  /** Permission bits (directories: to recreate them; files keep theirs through copyFile). */
  readonly mode: number;
  /** A symlink's target, as the archive wrote it (unpackArchive checked it stays inside). */
  readonly target?: string;
  /** A file's modification time as the archive gave it (caches such as Python's .pyc compare it). */
  readonly mtimeMs?: number;
}

interface TreeManifest {
  readonly sha256: string;
  readonly entries: readonly TreeEntry[];
}

export interface UnpackedTree {
  readonly dir: string;
  readonly entries: readonly TreeEntry[];
}

export interface UnpackedTreeSource {
  /** The verified tarball (fetched into the artifact cache): called only when the tree is not cached. */
  readonly archive: () => Promise<string>;
  /** The artifacts complete releases are built from: their trees are kept when a new one prunes the cache. */
  readonly inUse: () => Promise<ReadonlySet<string>>;
}

/**
 * A tree unused for this long, and named by no complete release, may be pruned. This process's
 * preparations hold their trees (see `held`); a preparation touches its tree's manifest when it
 * reads it, which keeps it from a prune by another process sharing the root for this long.
 */
export const UNUSED_TREE_GRACE_MS = 10 * 60_000;

/** Copies at once while building a release: enough to keep the thread pool busy on a big tree. */
const PARALLEL_COPIES = 16;

/** Unpacks in flight, by tree directory: jobs sharing a new artifact wait for one unpack. */
const unpacking = new Map<string, Promise<UnpackedTree>>();

/**
 * Trees this process's preparations hold (from unpackedTree to releaseTree), by directory: pruning
 * leaves them, however long a preparation spends fetching dependencies.
 */
const held = new CacheHolds();

const manifestPath = (treeDir: string) => `${treeDir}.json`;

/**
 * The unpacked tree of the artifact `sha256`, unpacked from `source.archive()` if the cache does not
 * hold it; a new tree then prunes the cache (trees are few and change rarely, so this is when to
 * look). Touches the manifest: this tree is in use now.
 */
export async function unpackedTree(cacheDir: string, sha256: string, source: UnpackedTreeSource): Promise<UnpackedTree> {
  const dir = path.join(cacheDir, sha256);
  // Held before the manifest is read: a prune running meanwhile must not remove what is about to be copied.
  held.hold(dir);
  try {
    const cached = await readTree(dir, sha256);
    if (cached) return cached;
    let pending = unpacking.get(dir);
    if (!pending) {
      pending = unpackTree(dir, sha256, source.archive).finally(() => unpacking.delete(dir));
      unpacking.set(dir, pending);
      // Pruning is housekeeping: a failure to read or remove leaves a tree for the next time.
      void pending.then(async () => pruneUnpackedTrees(cacheDir, await source.inUse())).catch(() => undefined);
    }
    return await pending;
  } catch (error) {
    releaseTree({ dir });
    throw error;
  }
}

/** The preparation is done with the tree (built its release, or gave up): pruning may consider it again. */
export function releaseTree(tree: Pick<UnpackedTree, 'dir'>): void {
  held.release(tree.dir);
}

/** The tree's files are not all there (removed by hand): the next preparation unpacks it again. */
export async function forgetTree(tree: UnpackedTree): Promise<void> {
  await fs.rm(manifestPath(tree.dir), { force: true });
}

/** The tree is complete (its manifest is there): releases are built from it, not from the tarball. */
export async function isUnpacked(cacheDir: string, sha256: string): Promise<boolean> {
  return (await fs.stat(manifestPath(path.join(cacheDir, sha256))).catch(() => undefined)) !== undefined;
}

async function readTree(dir: string, sha256: string): Promise<UnpackedTree | undefined> {
  const manifest = await readJsonFile<TreeManifest>(manifestPath(dir));
  if (manifest?.sha256 !== sha256 || !Array.isArray(manifest.entries)) return undefined;
  const now = new Date();
  await fs.utimes(manifestPath(dir), now, now);
  return { dir, entries: manifest.entries };
}

async function unpackTree(dir: string, sha256: string, archive: () => Promise<string>): Promise<UnpackedTree> {
  const file = await archive();
  // A tree without its manifest was cut short by a crash: it is not trusted, and it is in the way.
  await fs.rm(manifestPath(dir), { force: true });
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(path.dirname(dir), { recursive: true });
  await unpackArchive(file, dir);
  const entries = await listTree(dir);
  // Before the manifest: a tree every later release is copied from must not be torn by a power cut.
  await syncTree(dir, entries);
  const manifest: TreeManifest = { sha256, entries };
  const temporary = `${manifestPath(dir)}.${process.pid}.tmp`;
  const handle = await fs.open(temporary, 'w', 0o644);
  try {
    await handle.writeFile(JSON.stringify(manifest));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, manifestPath(dir));
  return { dir, entries };
}

/** Every entry under `dir`, in pre-order. unpackArchive admitted only directories, files and links. */
export async function listTree(dir: string, relative = ''): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [];
  for (const name of (await fs.readdir(path.join(dir, relative))).sort()) {
    const entryPath = relative === '' ? name : `${relative}/${name}`;
    const full = path.join(dir, entryPath);
    const stat = await fs.lstat(full);
    const mode = stat.mode & 0o7777;
    if (stat.isDirectory()) {
      entries.push({ path: entryPath, type: 'dir', mode });
      entries.push(...(await listTree(dir, entryPath)));
    } else if (stat.isSymbolicLink()) {
      entries.push({ path: entryPath, type: 'symlink', mode, target: await fs.readlink(full) });
    } else {
      entries.push({ path: entryPath, type: 'file', mode, mtimeMs: stat.mtimeMs });
    }
  }
  return entries;
}

/** fsync of every file and directory of a tree (the directories hold the names). */
export async function syncTree(dir: string, entries: readonly TreeEntry[]): Promise<void> {
  const synced = [dir, ...entries.filter((entry) => entry.type !== 'symlink').map((entry) => path.join(dir, entry.path))];
  for (let first = 0; first < synced.length; first += PARALLEL_COPIES) {
    await Promise.all(
      synced.slice(first, first + PARALLEL_COPIES).map(async (file) => {
        const handle = await fs.open(file, 'r');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      }),
    );
  }
}

/**
 * Fills `dest` (an empty directory the caller made) with a copy of the tree: directories first
 * (pre-order, with their modes), then files and symlinks. A hard link of the archive becomes a
 * file of its own.
 */
export async function copyTree(tree: UnpackedTree, dest: string): Promise<void> {
  for (const entry of tree.entries) {
    if (entry.type === 'dir') await fs.mkdir(path.join(dest, entry.path), { mode: entry.mode });
  }
  const leaves = tree.entries.filter((entry) => entry.type !== 'dir');
  for (let first = 0; first < leaves.length; first += PARALLEL_COPIES) {
    await Promise.all(
      leaves.slice(first, first + PARALLEL_COPIES).map(async (entry) => {
        const target = path.join(dest, entry.path);
        if (entry.type === 'symlink') return fs.symlink(entry.target!, target);
        await fs.copyFile(path.join(tree.dir, entry.path), target, fs.constants.COPYFILE_FICLONE);
        // A copy is new; the release keeps the archive's times, as unpacking it did.
        if (entry.mtimeMs !== undefined) await fs.utimes(target, entry.mtimeMs / 1000, entry.mtimeMs / 1000);
      }),
    );
  }
}

/**
 * Removes trees (and leftovers of interrupted unpacks) that no release in `inUse` names and that
 * nobody touched for UNUSED_TREE_GRACE_MS. Returns the names removed.
 */
export async function pruneUnpackedTrees(cacheDir: string, inUse: ReadonlySet<string>, nowMs = Date.now()): Promise<string[]> {
  return pruneCacheDir(cacheDir, {
    sidecarSuffix: '.json',
    keep: (name) => inUse.has(name) || unpacking.has(path.join(cacheDir, name)) || held.has(path.join(cacheDir, name)),
    graceMs: UNUSED_TREE_GRACE_MS,
    nowMs,
  });
}
