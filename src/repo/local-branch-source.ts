// The controller's source for a repository on this machine: its objects are read in place, and a
// "fetch" is re-reading the branch ref. Force-pushes are told apart exactly as for a remote.
import path from 'node:path';
import { oneAtATime, snapshotOfCommit, type BranchHead, type ControllerSource } from './controller-source.js';
import { FetchedHeadStore } from './fetched-head-store.js';
import { GitSource } from './git-source.js';
import type { RepoSnapshot } from './source.js';

const HEAD_FILE = 'fetched-head.json';

export class LocalBranchSource implements ControllerSource {
  readonly label: string;
  readonly git: GitSource;
  private readonly heads: FetchedHeadStore;
  private readonly serialFetch = oneAtATime(() => this.fetchOnce());

  /** `repoPath` may be a folder inside the work tree: snapshots then hold that folder only. */
  constructor(
    repoPath: string,
    readonly branch: string,
    cacheDir: string,
  ) {
    this.git = new GitSource(repoPath);
    this.label = path.resolve(repoPath);
    this.heads = new FetchedHeadStore(path.join(cacheDir, HEAD_FILE), this.label, branch);
  }

  fetchHead(): Promise<BranchHead> {
    return this.serialFetch();
  }

  snapshotOf(sha: string): Promise<RepoSnapshot> {
    return snapshotOfCommit(this.git, sha, this.label);
  }

  private async fetchOnce(): Promise<BranchHead> {
    // resolveCommit re-reads the object store too, so commits made since the last call are seen.
    const sha = await this.git.repository.resolveCommit(`refs/heads/${this.branch}`);
    return this.heads.advance(sha, this.git.repository);
  }
}
