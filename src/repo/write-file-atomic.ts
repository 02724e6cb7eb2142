// Writes a file so that a reader, or a restart after a crash, sees the old content or the new
// one, never a torn half: write a temporary file beside it, then rename it over the target.
import fs from 'node:fs/promises';
import path from 'node:path';

let sequence = 0;

export async function writeFileAtomic(file: string, data: string | Uint8Array, options?: { mode?: number }): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++sequence}.tmp`);
  try {
    await fs.writeFile(temporary, data, options?.mode === undefined ? {} : { mode: options.mode });
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
}
