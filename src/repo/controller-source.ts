// What the controller reads its commits from: one branch of a repository, fetched on demand and
// pinned to commit SHAs. A local repository and a remote mirror look the same from here.
import type { GitSource } from './git-source.js';
import { SourceError, type RepoSnapshot } from './source.js';

export interface BranchHead {
  readonly sha: string;
  /** The head at the fetch before this one (equal to `sha` when nothing moved); absent the first time. */
  readonly previous?: string;
  /** The new head does not descend from the previous one: the branch was force-pushed. */
  readonly forced: boolean;
}

export interface ControllerSource {
  /** The repository and branch for messages; never carries a password. */
  readonly label: string;
  readonly branch: string;
  /** The commits' reader, for history and diffs. */
  readonly git: GitSource;
  /** Brings the branch up to date and returns its head. A failure changes nothing already fetched. */
  fetchHead(): Promise<BranchHead>;
  snapshotOf(sha: string): Promise<RepoSnapshot>;
}

/** A snapshot of a commit, with a commit that is not (yet) in the object store as a typed error. */
export async function snapshotOfCommit(git: GitSource, sha: string, label: string): Promise<RepoSnapshot> {
  try {
    return await git.snapshotOf(sha);
  } catch (error) {
    if ((error as { code?: string }).code !== 'NotFoundError') throw error;
    throw new SourceError('E_REF_NOT_FOUND', `commit ${sha} is not in ${label} (not fetched yet?)`, { cause: error });
  }
}

/** Runs `task` one call at a time: a poll and a webhook arriving together must not fetch twice at once. */
export function oneAtATime<T>(task: () => Promise<T>): () => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return () => {
    const run = last.then(task, task);
    last = run.catch(() => undefined);
    return run;
  };
}
