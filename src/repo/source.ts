// Where the repo's files come from: a working directory or one commit of a git repository.

export interface RepoFile {
  /** Path relative to the repo root, `/`-separated. */
  readonly path: string;
  /** Content id: the git blob oid, or a digest of the file's bytes for a working tree. */
  readonly id: string;
}

export interface CommitInfo {
  readonly sha: string;
  readonly author: string;
  readonly email: string;
  readonly timestamp: number;
  readonly message: string;
}

/** Where a snapshot's files can be read again, e.g. by a worker thread. */
export type SnapshotLocation = { readonly kind: 'git'; readonly dir: string } | { readonly kind: 'tree'; readonly dir: string };

/** One consistent view of the repo: the file list and a reader for their contents. */
export interface RepoSnapshot {
  readonly location?: SnapshotLocation;
  /** Set when the snapshot is a commit. */
  readonly commit?: CommitInfo;
  /** Every file under the repo root, sorted by path. */
  readonly files: readonly RepoFile[];
  readText(file: RepoFile): Promise<string>;
  readBytes(file: RepoFile): Promise<Uint8Array>;
  /** A file's size in bytes, known without reading its content (limits hold before reading). */
  sizeOf(file: RepoFile): Promise<number>;
  /** Lowercase hex sha256 of a file's bytes. */
  sha256(file: RepoFile): Promise<string>;
}

export interface RepoSource {
  /** A human label for messages, e.g. the directory. */
  readonly label: string;
  snapshot(ref?: string): Promise<RepoSnapshot>;
}

export type SourceErrorCode =
  | 'E_REPO_NOT_FOUND'
  | 'E_NOT_A_GIT_REPO'
  | 'E_REF_NOT_FOUND'
  | 'E_SOURCE_READ'
  /** A remote could not be fetched: unreachable, timed out, or not a git server. */
  | 'E_FETCH_FAILED'
  /** A remote refused the credentials, or wants some and none were given. */
  | 'E_AUTH_FAILED'
  /** A repository address in a scheme this source cannot speak (ssh, git, scp-like). */
  | 'E_UNSUPPORTED_URL';

/**
 * A source that cannot be read at all: missing directory, unknown ref, not a git repo, a remote
 * that cannot be fetched. Messages name the repository, never a password.
 */
export class SourceError extends Error {
  constructor(
    readonly code: SourceErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SourceError';
  }
}

/** The Repo document's file, at the root of the fleet (and, pointing there, of the repository). */
export const REPO_CONFIG_FILE = 'ygg.yaml';

export function isYamlPath(path: string): boolean {
  return path.endsWith('.yaml') || path.endsWith('.yml');
}
