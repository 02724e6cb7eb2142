// A repo source reading files as they are on disk (uncommitted edits included).
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { SourceError, type RepoFile, type RepoSnapshot, type RepoSource } from './source.js';

const SKIPPED_DIRS = new Set(['.git', 'node_modules']);

export class WorkingTreeSource implements RepoSource {
  constructor(readonly label: string) {
    if (!existsSync(label)) throw new SourceError('E_REPO_NOT_FOUND', `repo path "${label}" does not exist`);
    if (!statSync(label).isDirectory()) throw new SourceError('E_REPO_NOT_FOUND', `repo path "${label}" is not a directory`);
  }

  async snapshot(ref?: string): Promise<RepoSnapshot> {
    if (ref !== undefined) throw new SourceError('E_REF_NOT_FOUND', `a working tree has no ref "${ref}"`);
    const files: RepoFile[] = [];
    const sizes = new Map<string, number>();
    const visit = async (relative: string): Promise<void> => {
      const entries = await fs.readdir(path.join(this.label, relative), { withFileTypes: true });
      for (const entry of entries) {
        const entryPath = relative ? `${relative}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
          if (!SKIPPED_DIRS.has(entry.name)) await visit(entryPath);
        } else if (entry.isFile()) {
          // Like git's index: size and mtime identify the content well enough to reuse a parse.
          const stat = await fs.stat(path.join(this.label, entryPath));
          files.push({ path: entryPath, id: `${stat.size}:${stat.mtimeMs}:${stat.ino}` });
          sizes.set(entryPath, stat.size);
        }
      }
    };
    await visit('');
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const read = (file: RepoFile) => fs.readFile(path.join(this.label, file.path));
    return {
      location: { kind: 'tree', dir: this.label },
      files,
      readText: (file) => readWorkingTreeText(this.label, file),
      readBytes: read,
      sizeOf: async (file) => sizes.get(file.path) ?? (await fs.stat(path.join(this.label, file.path))).size,
      sha256: async (file) => createHash('sha256').update(await read(file)).digest('hex'),
    };
  }
}

export function readWorkingTreeText(root: string, file: RepoFile): Promise<string> {
  return fs.readFile(path.join(root, file.path), 'utf8');
}
