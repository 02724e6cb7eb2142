// The head a branch had at the last fetch, kept in memory and in a small JSON file, so that a
// restarted controller still tells a fast-forward from a force-push.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { BranchHead } from './controller-source.js';
import type { GitRepository } from './git-repository.js';
import { writeFileAtomic } from './write-file-atomic.js';

interface StoredHead {
  readonly repository: string;
  readonly branch: string;
  readonly sha: string;
}

export class FetchedHeadStore {
  private last: Promise<string | undefined> | undefined;

  /** `repository` and `branch` say whose head the file holds; a file about another one is ignored. */
  constructor(
    readonly file: string,
    private readonly repository: string,
    private readonly branch: string,
  ) {}

  /** The head of the last fetch, if any. */
  previous(): Promise<string | undefined> {
    this.last ??= this.read().catch((error: unknown) => {
      this.last = undefined;
      throw error;
    });
    return this.last;
  }

  /** Records `sha` as the new head and says how it relates to the previous one. */
  async advance(sha: string, repository: GitRepository): Promise<BranchHead> {
    const previous = await this.previous();
    if (previous === sha) return { sha, previous, forced: false };
    const forced = previous !== undefined && !(await repository.isAncestor(previous, sha));
    const stored: StoredHead = { repository: this.repository, branch: this.branch, sha };
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, `${JSON.stringify(stored, null, 2)}\n`);
    this.last = Promise.resolve(sha);
    return previous === undefined ? { sha, forced } : { sha, previous, forced };
  }

  private async read(): Promise<string | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let stored: Partial<StoredHead>;
    try {
      stored = JSON.parse(text) as Partial<StoredHead>;
    } catch {
      // Only this class writes the file, atomically; an unreadable one was edited by hand. It is a
      // cache: forgetting it costs one unflagged force-push at worst.
      return undefined;
    }
    const matches = stored.repository === this.repository && stored.branch === this.branch;
    return matches && typeof stored.sha === 'string' && /^[0-9a-f]{40}$/.test(stored.sha) ? stored.sha : undefined;
  }
}
