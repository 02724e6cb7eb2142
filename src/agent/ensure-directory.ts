// A deploy needs the same few directories every time (data, log, releases, run), and after the
// first deploy they exist: `mkdir -p` then costs two system calls each (mkdir → EEXIST, then a stat
// to check it is a directory), for nothing. These ask the file system once, and never trust a
// memory of their own: a directory deleted by hand is created again by the next call that needs it.
import { mkdir } from 'node:fs/promises';

/**
 * `dir` exists after this: one mkdir(2) in the common case (EEXIST or created). Only a missing
 * parent takes the recursive path. A non-directory in the way is not told apart from a directory
 * here (that would be the stat this saves): whoever uses the path finds it.
 */
export async function ensureDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT') throw error;
    await mkdir(dir, { recursive: true });
  }
}

/**
 * Runs `create` (which makes something inside `dir`) assuming `dir` is there; when it is not
 * (ENOENT), creates it and runs `create` once more. So the usual case costs nothing extra, and a
 * directory removed by hand is still recreated. `create` must do nothing when it fails with ENOENT
 * (a single open, mkdir or symlink), so that running it twice is safe.
 */
export async function inDirectory<T>(dir: string, create: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dir, { recursive: true });
    return create();
  }
}
