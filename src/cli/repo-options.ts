// Flags and loading shared by the commands that read a repo.
import { GitSource } from '../repo/git-source.js';
import { RepoLoader, type LoadResult } from '../repo/load-repo.js';
import { createSchemaValidator } from '../repo/schema-validator.js';
import { WorkingTreeSource } from '../repo/working-tree-source.js';
import { SourceError, type RepoSnapshot } from '../repo/source.js';
import { UsageError } from './usage-error.js';

export const REPO_OPTION = {
  repo: { type: 'string', short: 'r', valueName: 'PATH', description: 'repo root: a folder, in or out of a git repository (default: .)' },
} as const;

export const REF_OPTION = {
  ref: { type: 'string', valueName: 'REF', description: 'read this commit (branch, tag, sha, HEAD~1) instead of the files on disk' },
} as const;

export const OUTPUT_OPTION = {
  output: { type: 'string', short: 'o', valueName: 'FORMAT', description: 'text (default) or json' },
} as const;

export function repoPath(values: { repo?: unknown }): string {
  return typeof values.repo === 'string' ? values.repo : '.';
}

/** Missing paths and refs are mistakes in the command line: exit 2 with one line. */
export async function openSnapshot(path: string, ref: string | undefined): Promise<{ snapshot: RepoSnapshot; git?: GitSource }> {
  try {
    if (ref === undefined) return { snapshot: await new WorkingTreeSource(path).snapshot() };
    const git = new GitSource(path);
    return { snapshot: await git.snapshot(ref), git };
  } catch (error) {
    if (error instanceof SourceError) throw new UsageError(error.message);
    throw error;
  }
}

export function createLoader(): RepoLoader {
  return new RepoLoader(createSchemaValidator());
}

export async function loadRepo(path: string, ref: string | undefined, loader = createLoader()): Promise<LoadResult> {
  const { snapshot } = await openSnapshot(path, ref);
  return loader.load(snapshot);
}
