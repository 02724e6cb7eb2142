// The one pruning rule of the agent's content-addressed caches (cache/unpacked/, cache/artifacts/):
// an entry goes when nothing keeps it (a release on disk names it, a preparation holds it) and
// nobody used it for a grace period. Each entry may have a sidecar file beside it (a tree's
// manifest, a download's verification stamp) that vouches for it: the sidecar is removed first, so
// an entry half removed is one nobody trusts, and a sidecar whose entry is gone is removed too.
import fs from 'node:fs/promises';
import path from 'node:path';

export interface CacheDirPruning {
  /** The sidecar's name is the entry's plus this suffix; its mtime is the entry's last use. */
  readonly sidecarSuffix: string;
  /** Entries (by name) that stay whatever their age. */
  readonly keep: (name: string) => boolean;
  readonly graceMs: number;
  readonly nowMs: number;
}

/** Removes what `rules` lets go from `dir`; returns the entry names removed, sorted. */
export async function pruneCacheDir(dir: string, rules: CacheDirPruning): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const sidecarOf = (name: string) => path.join(dir, `${name}${rules.sidecarSuffix}`);
  const removed: string[] = [];
  for (const name of names) {
    if (name.endsWith(rules.sidecarSuffix)) {
      // A sidecar without its entry (removed by hand) would vouch for whatever lands there next.
      const entry = path.join(dir, name.slice(0, -rules.sidecarSuffix.length));
      if ((await fs.lstat(entry).catch(() => undefined)) === undefined) await fs.rm(path.join(dir, name), { force: true });
      continue;
    }
    if (rules.keep(name)) continue;
    // The sidecar's mtime is the last use; an entry without one is dated by its own.
    const stat = (await fs.stat(sidecarOf(name)).catch(() => undefined)) ?? (await fs.lstat(path.join(dir, name)).catch(() => undefined));
    if (stat === undefined || rules.nowMs - stat.mtimeMs < rules.graceMs) continue;
    await fs.rm(sidecarOf(name), { force: true });
    await fs.rm(path.join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed.sort();
}
