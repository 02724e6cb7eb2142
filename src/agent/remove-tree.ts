// Removes what the agent built (an old release) with one readdir per directory, whose entry types
// say what to unlink and what to descend into. fs.rm's recursive walk lstats every entry (the top
// twice) and first tries rmdir on each non-empty directory: twice the system calls, for the release
// every deploy prunes.
import type { Dirent } from 'node:fs';
import { readdir, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * Like `rm -rf` of one entry of `parent`, as its readdir typed it (lstat's view): a symlink is
 * unlinked, never followed; absent is fine.
 */
export async function removeEntry(parent: string, entry: Dirent): Promise<void> {
  const target = path.join(parent, entry.name);
  if (!entry.isDirectory()) return unlinkIfPresent(target);
  const entries = await readdir(target, { withFileTypes: true }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return [];
  });
  await Promise.all(entries.map((child) => removeEntry(target, child)));
  await rmdir(target).catch(ignoreAbsent);
}

/** One unlink(2); rm's `force` lstats twice before it. */
export async function unlinkIfPresent(file: string): Promise<void> {
  await unlink(file).catch(ignoreAbsent);
}

function ignoreAbsent(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
