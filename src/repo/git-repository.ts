// Read-only access to a local git repository's objects through isomorphic-git, without a checkout.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import { splitSignature, type SignedCommit } from './commit-signature.js';
import { createGitObjectFs, useNativeInflate, type GitObjectFs } from './git-object-fs.js';
import { createObjectSizeReader, type ObjectSizeReader } from './git-object-size.js';
import { SourceError, type CommitInfo, type RepoFile } from './source.js';

/** Finds the directory holding `.git` at or above `start`. */
export function findWorkTreeTop(start: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, '.git'))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

export class GitRepository {
  /** isomorphic-git keeps parsed pack indexes here; without it every read re-opens the packs. */
  private readonly cache = {};
  private readonly digests = new Map<string, string>();
  private readonly commits = new Map<string, CommitInfo & { parents: readonly string[]; tree: string }>();
  /** Tree oid → its files; a new commit shares most subtrees with the last one. */
  private treeFiles = new Map<string, readonly RepoFile[]>();

  private readonly objectFs: GitObjectFs;
  private readonly sizes: ObjectSizeReader;

  constructor(readonly dir: string) {
    useNativeInflate();
    this.objectFs = createGitObjectFs(path.join(dir, '.git'));
    this.sizes = createObjectSizeReader(path.join(dir, '.git'));
  }

  private get base() {
    return { fs: this.objectFs.fs, dir: this.dir, cache: this.cache };
  }

  /** Forgets what the object store held; call after something else wrote objects (e.g. a fetch). */
  refresh(): void {
    this.objectFs.refresh();
    this.sizes.refresh();
  }

  /**
   * Whether `ancestor` is `sha` or reachable from it through parents. A commit missing from the
   * object store counts as not reachable: every commit of `sha`'s history is there (no shallow
   * clones here), so a missing one cannot be part of it.
   */
  async isAncestor(ancestor: string, sha: string): Promise<boolean> {
    const seen = new Set<string>([sha]);
    for (let queue = [sha]; queue.length > 0; ) {
      const next: string[] = [];
      for (const current of queue) {
        if (current === ancestor) return true;
        for (const parent of (await this.readCommit(current)).parents) {
          if (!seen.has(parent)) {
            seen.add(parent);
            next.push(parent);
          }
        }
      }
      queue = next;
    }
    return false;
  }

  /**
   * Resolves a revision: a branch, tag, remote branch, HEAD or (abbreviated) sha, optionally
   * followed by `~N` / `^` parent steps (first parent, as git does).
   */
  async resolveCommit(revision: string): Promise<string> {
    // A new revision may live in objects written since the last one: forget the listings.
    this.refresh();
    const match = /^(.*?)((?:~\d*|\^)*)$/.exec(revision)!;
    const name = match[1]!;
    let sha = await this.resolveName(name, revision);
    for (const step of match[2]!.match(/~\d*|\^/g) ?? []) {
      const count = step === '^' || step === '~' ? 1 : Number(step.slice(1));
      for (let index = 0; index < count; index++) {
        const parent = (await this.readCommit(sha)).parents[0];
        if (!parent) throw new SourceError('E_REF_NOT_FOUND', `revision "${revision}" goes past the first commit`);
        sha = parent;
      }
    }
    return sha;
  }

  private async resolveName(name: string, revision: string): Promise<string> {
    try {
      const oid = await git.resolveRef({ fs: this.objectFs.fs, dir: this.dir, ref: name });
      return await this.peelToCommit(oid);
    } catch (error) {
      if (!isGitNotFound(error)) throw error;
    }
    if (/^[0-9a-f]{4,40}$/i.test(name)) {
      try {
        return await this.peelToCommit(await git.expandOid({ ...this.base, oid: name.toLowerCase() }));
      } catch (error) {
        if (!isGitNotFound(error)) throw error;
      }
    }
    throw new SourceError('E_REF_NOT_FOUND', `git ref "${revision}" not found in ${this.dir}`);
  }

  private async peelToCommit(oid: string): Promise<string> {
    const { type, object } = await git.readObject({ ...this.base, oid, format: 'parsed' });
    if (type === 'tag') return this.peelToCommit((object as { object: string }).object);
    if (type !== 'commit') throw new SourceError('E_REF_NOT_FOUND', `${oid} is a ${type}, not a commit`);
    return oid;
  }

  /** Whether the commit was read before: its objects are then known to be in the listings. */
  knows(sha: string): boolean {
    return this.commits.has(sha);
  }

  async readCommit(sha: string): Promise<CommitInfo & { parents: readonly string[]; tree: string }> {
    const known = this.commits.get(sha);
    if (known) return known;
    const { commit } = await this.readCommitObject(sha);
    const info = {
      sha,
      author: commit.author.name,
      email: commit.author.email,
      timestamp: commit.author.timestamp,
      message: commit.message.trimEnd(),
      parents: commit.parent,
      tree: commit.tree,
    };
    this.commits.set(sha, info);
    return info;
  }

  /** A commit written since the object store was listed (by sha, with no ref resolved since) is looked for once more. */
  private async readCommitObject(sha: string): ReturnType<typeof git.readCommit> {
    try {
      return await git.readCommit({ ...this.base, oid: sha });
    } catch (error) {
      if (!isGitNotFound(error)) throw error;
      this.refresh();
      return git.readCommit({ ...this.base, oid: sha });
    }
  }

  /** The commit object as signed: its payload and signature (commit-signature.ts checks them). */
  async readSignedCommit(sha: string): Promise<SignedCommit> {
    const { object } = await git.readObject({ ...this.base, oid: sha, format: 'content' });
    return splitSignature(new TextDecoder().decode(object as Uint8Array));
  }

  /** The oid of the tree at `subdir` in a commit, or undefined when the commit has no such folder. */
  async subtreeOid(sha: string, subdir: string): Promise<string | undefined> {
    let oid = (await this.readCommit(sha)).tree;
    for (const segment of subdir.split('/').filter(Boolean)) {
      const { tree } = await git.readTree({ ...this.base, oid });
      const entry = tree.find((candidate) => candidate.path === segment && candidate.type === 'tree');
      if (!entry) return undefined;
      oid = entry.oid;
    }
    return oid;
  }

  /**
   * Every regular file below a tree, sorted by path (git's tree order is path order once folders
   * count as "name/"). Lists are remembered per (folder, tree oid), so a new commit only lists the
   * folders it changed and shares the rest, down to the entry objects.
   */
  async listFiles(treeOid: string): Promise<readonly RepoFile[]> {
    const seen = new Map<string, readonly RepoFile[]>();
    const visit = async (oid: string, prefix: string): Promise<readonly RepoFile[]> => {
      const key = `${prefix}\0${oid}`;
      const known = this.treeFiles.get(key) ?? seen.get(key);
      if (known) {
        seen.set(key, known);
        return known;
      }
      const { tree } = await git.readTree({ ...this.base, oid });
      const parts = await Promise.all(
        tree.map(async (entry): Promise<readonly RepoFile[]> => {
          if (entry.type === 'tree') return visit(entry.oid, `${prefix}${entry.path}/`);
          // Symlinks (120000) and submodules are not files of the repo.
          return entry.type === 'blob' && entry.mode !== '120000' ? [{ path: prefix + entry.path, id: entry.oid }] : [];
        }),
      );
      const files = parts.flat();
      seen.set(key, files);
      return files;
    };
    const files = await visit(treeOid, '');
    // Keep only the trees of the latest listing, so memory follows the repo, not its history.
    this.treeFiles = seen;
    return files;
  }

  /** Files that differ between two trees (either may be absent), skipping identical subtrees. */
  async diffTrees(before: string | undefined, after: string | undefined): Promise<{ path: string; before?: string; after?: string }[]> {
    const changes: { path: string; before?: string; after?: string }[] = [];
    const entries = async (oid: string | undefined) => (oid ? (await git.readTree({ ...this.base, oid })).tree : []);
    const visit = async (beforeOid: string | undefined, afterOid: string | undefined, prefix: string): Promise<void> => {
      if (beforeOid === afterOid) return;
      const beforeEntries = new Map((await entries(beforeOid)).map((entry) => [entry.path, entry]));
      const afterEntries = new Map((await entries(afterOid)).map((entry) => [entry.path, entry]));
      for (const name of new Set([...beforeEntries.keys(), ...afterEntries.keys()])) {
        const old = beforeEntries.get(name);
        const next = afterEntries.get(name);
        if (old?.oid === next?.oid) continue;
        const oldTree = old?.type === 'tree' ? old.oid : undefined;
        const nextTree = next?.type === 'tree' ? next.oid : undefined;
        if (oldTree || nextTree) await visit(oldTree, nextTree, `${prefix}${name}/`);
        const oldBlob = old?.type === 'blob' ? old.oid : undefined;
        const nextBlob = next?.type === 'blob' ? next.oid : undefined;
        if (oldBlob !== nextBlob) changes.push({ path: prefix + name, ...(oldBlob ? { before: oldBlob } : {}), ...(nextBlob ? { after: nextBlob } : {}) });
      }
    };
    await visit(before, after, '');
    return changes.sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  async readBlob(oid: string): Promise<Uint8Array> {
    return (await git.readBlob({ ...this.base, oid })).blob;
  }

  /** A blob's size from its object header, without inflating it. */
  async blobSize(oid: string): Promise<number> {
    // Objects this reader cannot see (an alternate object store) are measured the slow way.
    return (await this.sizes.sizeOf(oid)) ?? (await this.readBlob(oid)).length;
  }

  async sha256(oid: string): Promise<string> {
    let digest = this.digests.get(oid);
    if (!digest) {
      digest = createHash('sha256').update(await this.readBlob(oid)).digest('hex');
      this.digests.set(oid, digest);
    }
    return digest;
  }

  /** First-parent history from a commit, newest first. */
  async *history(sha: string, limit = Infinity): AsyncGenerator<CommitInfo & { parents: readonly string[]; tree: string }> {
    let current: string | undefined = sha;
    for (let count = 0; current && count < limit; count++) {
      const commit = await this.readCommit(current);
      yield commit;
      current = commit.parents[0];
    }
  }
}

function isGitNotFound(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'NotFoundError' || code === 'NoRefspecError' || code === 'AmbiguousError' || code === 'InvalidOidError';
}
