// Audit through git history: for each commit, which documents it changed and how.
import { diffDocuments, readRawDocuments, type DocumentChange, type RawDocuments } from './document-changes.js';
import type { GitSource } from './git-source.js';
import { isYamlPath, type CommitInfo } from './source.js';

export interface CommitChanges {
  readonly commit: CommitInfo;
  readonly changes: readonly DocumentChange[];
}

export interface HistoryFilter {
  readonly job?: string;
  readonly host?: string;
}

/** A change concerns a host when it is the host's document or a tree node that binds or unbinds it. */
function concerns(change: DocumentChange, filter: HistoryFilter, before: RawDocuments, after: RawDocuments): boolean {
  if (filter.job === undefined && filter.host === undefined) return true;
  if (filter.job !== undefined && change.kind === 'Job' && change.name === filter.job) return true;
  if (filter.host === undefined) return false;
  if (change.kind === 'Host' && change.name === filter.host) return true;
  if (change.kind !== 'TreeNode') return false;
  const binds = (documents: RawDocuments) => {
    const body = documents.get(`TreeNode/${change.name}`)?.body as { spec?: { hosts?: unknown } } | undefined;
    return Array.isArray(body?.spec?.hosts) && body.spec.hosts.includes(filter.host);
  };
  return binds(before) !== binds(after);
}

/** Walks first-parent history newest first, yielding commits with matching changes. */
export async function* readRepoHistory(source: GitSource, ref: string, filter: HistoryFilter, limit: number): AsyncGenerator<CommitChanges> {
  const repository = source.repository;
  const decoder = new TextDecoder();
  const read = async (oid: string | undefined): Promise<RawDocuments> => (oid ? readRawDocuments(decoder.decode(await repository.readBlob(oid))) : new Map());
  let yielded = 0;
  for await (const commit of repository.history(await repository.resolveCommit(ref))) {
    if (yielded >= limit) return;
    const parent = commit.parents[0];
    const afterTree = await repository.subtreeOid(commit.sha, source.subdir);
    const beforeTree = parent ? await repository.subtreeOid(parent, source.subdir) : undefined;
    const files = (await repository.diffTrees(beforeTree, afterTree)).filter((file) => isYamlPath(file.path));
    // Pool the documents of all changed files, so a document moved between files is no change.
    const before = new Map<string, RawDocuments extends ReadonlyMap<string, infer D> ? D : never>();
    const after = new Map<string, RawDocuments extends ReadonlyMap<string, infer D> ? D : never>();
    for (const file of files) {
      for (const [key, document] of await read(file.before)) before.set(key, document);
      for (const [key, document] of await read(file.after)) after.set(key, document);
    }
    const changes = diffDocuments(before, after).filter((change) => concerns(change, filter, before, after));
    if (changes.length === 0) continue;
    yielded++;
    const { sha, author, email, timestamp, message } = commit;
    yield { commit: { sha, author, email, timestamp, message }, changes };
  }
}
