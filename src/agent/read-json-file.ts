// Reading a small JSON file the agent itself wrote (a marker, a stamp): absent or torn by a crash
// mid-write both mean "not there", so the caller redoes the work instead of trusting it.
import { readFile } from 'node:fs/promises';

export async function readJsonFile<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof SyntaxError) return undefined;
    throw error;
  }
}
