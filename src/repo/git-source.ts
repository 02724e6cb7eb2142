// A repo source reading commits of a local git repository; the repo root may be a folder inside it.
import fs from 'node:fs';
import path from 'node:path';
import { findWorkTreeTop, GitRepository } from './git-repository.js';
import { SourceError, type RepoSnapshot, type RepoSource } from './source.js';

export class GitSource implements RepoSource {
  readonly repository: GitRepository;
  /** The repo root's path inside the git tree, `/`-separated, '' at the top. */
  readonly subdir: string;
  private readonly decoder = new TextDecoder();

  constructor(readonly label: string) {
    if (!fs.existsSync(label)) throw new SourceError('E_REPO_NOT_FOUND', `repo path "${label}" does not exist`);
    const top = findWorkTreeTop(label);
    if (!top) throw new SourceError('E_NOT_A_GIT_REPO', `"${label}" is not inside a git repository (no .git found above it)`);
    this.repository = new GitRepository(top);
    this.subdir = path.relative(top, path.resolve(label)).split(path.sep).join('/');
  }

  async snapshot(ref = 'HEAD'): Promise<RepoSnapshot> {
    const sha = await this.repository.resolveCommit(ref);
    return this.snapshotOf(sha);
  }

  async snapshotOf(sha: string): Promise<RepoSnapshot> {
    // A commit never read may have been written after the object store was listed, its trees and
    // blobs with it (the listings are otherwise forgotten only when a revision is resolved).
    if (!this.repository.knows(sha)) this.repository.refresh();
    const commit = await this.repository.readCommit(sha);
    const treeOid = await this.repository.subtreeOid(sha, this.subdir);
    // A commit from before the fleet's folder existed holds an empty fleet.
    const files = treeOid === undefined ? [] : await this.repository.listFiles(treeOid);
    return {
      location: { kind: 'git', dir: this.repository.dir },
      commit: { sha, author: commit.author, email: commit.email, timestamp: commit.timestamp, message: commit.message },
      files,
      readText: async (file) => this.decoder.decode(await this.repository.readBlob(file.id)),
      readBytes: (file) => this.repository.readBlob(file.id),
      sizeOf: (file) => this.repository.blobSize(file.id),
      sha256: (file) => this.repository.sha256(file.id),
    };
  }
}
