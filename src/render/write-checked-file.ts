// Puts a rendered config in place only if it passes its checker: temp file beside the target →
// check → fsync → keep the old file as .bak → rename over the target → fsync the directory →
// reload. A reader (or a crash) sees the old file or the new one, never a torn or unchecked one.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { RenderCheckError, RenderReloadError } from './render-errors.js';

export interface WriteCheckedOptions {
  /** Checks the temp file; throws (RenderCheckError with the checker's message) to refuse it. */
  readonly check?: (tempPath: string) => Promise<void>;
  /** Runs only after the content changed and the new file is in place. */
  readonly reload?: () => Promise<void>;
  /** Copy the previous file to `<target>.bak` before replacing it. Default true. */
  readonly keepBackup?: boolean;
}

export interface WriteCheckedResult {
  readonly changed: boolean;
  /** sha256 of the content, hex. */
  readonly checksum: string;
}

export async function writeCheckedFile(target: string, content: string, options: WriteCheckedOptions = {}): Promise<WriteCheckedResult> {
  const checksum = createHash('sha256').update(content).digest('hex');
  // An empty file passes `keepalived -t` and would drop every virtual server: never write one.
  if (content.length === 0) throw new RenderCheckError(target, 'refusing to write empty content');
  const previous = await readIfExists(target);
  if (previous !== undefined && previous.equals(Buffer.from(content))) return { changed: false, checksum };

  const directory = path.dirname(target);
  const temporary = path.join(directory, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const mode = previous === undefined ? 0o644 : (await fs.stat(target)).mode & 0o777;
    const handle = await fs.open(temporary, 'wx', mode);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await options.check?.(temporary);
    if (previous !== undefined && (options.keepBackup ?? true)) await fs.writeFile(`${target}.bak`, previous);
    await fs.rename(temporary, target);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(directory);
  try {
    await options.reload?.();
  } catch (error) {
    throw new RenderReloadError(target, checksum, error);
  }
  return { changed: true, checksum };
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Makes the rename itself durable. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await fs.open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
