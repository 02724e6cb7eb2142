// The controller's source for a remote repository: a mirror of one branch, fetched over http(s)
// with isomorphic-git into a cache directory and read in place like a local repository. A failed
// fetch leaves the mirror as it was, so the last fetched commit stays readable (fail static).
import fs from 'node:fs';
import path from 'node:path';
import git, { type HttpClient, type PromiseFsClient } from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { oneAtATime, snapshotOfCommit, type BranchHead, type ControllerSource } from './controller-source.js';
import { FetchedHeadStore } from './fetched-head-store.js';
import { GitSource } from './git-source.js';
import { SourceError, type RepoSnapshot } from './source.js';
import { writeFileAtomic } from './write-file-atomic.js';
import { redactUrl } from '../util/redact-url.js';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface RemoteGitSourceOptions {
  /** An http:// or https:// URL; credentials written into it are taken out and used as `credentials`. */
  readonly url: string;
  readonly branch: string;
  /** A directory owned by this source: the mirror (`.git`) and the last fetched head live here. */
  readonly cacheDir: string;
  /** Basic-auth credentials for a private repository; they win over those in the URL. */
  readonly credentials?: Credentials;
  /** A request that stays silent this long fails the fetch. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const HEAD_FILE = 'fetched-head.json';

/**
 * isomorphic-git writes refs, pack files and their indexes in place; a crash in the middle would
 * leave a torn index that breaks every later read. Writing each file whole keeps the mirror usable.
 */
const mirrorFs: PromiseFsClient = {
  promises: {
    ...fs.promises,
    writeFile: (file: string, data: string | Uint8Array, options?: unknown) =>
      writeFileAtomic(file, data, typeof options === 'object' && options !== null && 'mode' in options ? { mode: Number(options.mode) } : {}),
  },
};

export class RemoteGitSource implements ControllerSource {
  /** The URL without credentials. */
  readonly label: string;
  readonly branch: string;
  private readonly credentials: Credentials | undefined;
  private readonly http: HttpClient;
  private readonly heads: FetchedHeadStore;
  private readonly serialFetch = oneAtATime(() => this.fetchOnce());

  private constructor(
    private readonly url: string,
    options: RemoteGitSourceOptions,
    credentials: Credentials | undefined,
    readonly git: GitSource,
  ) {
    this.label = url;
    this.branch = options.branch;
    this.credentials = credentials;
    const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Node's socket timeout: fires when the connection stays idle, before or during the response.
    this.http = { request: (request) => http.request({ ...request, fetchOptions: { ...request.fetchOptions, timeout } }) };
    this.heads = new FetchedHeadStore(path.join(options.cacheDir, HEAD_FILE), url, options.branch);
  }

  /** Opens (creating once) the mirror in `options.cacheDir`; fetches nothing yet. */
  static async open(options: RemoteGitSourceOptions): Promise<RemoteGitSource> {
    const { url, credentials } = parseRemoteUrl(options.url);
    try {
      await fs.promises.mkdir(options.cacheDir, { recursive: true });
      // A no-op when the mirror exists already.
      await git.init({ fs: mirrorFs, dir: options.cacheDir, defaultBranch: options.branch });
      // isomorphic-git records the remote head under the remote's refspec, so it needs one.
      const branchRef = `refs/heads/${options.branch}`;
      await git.setConfig({ fs: mirrorFs, dir: options.cacheDir, path: 'remote.origin.url', value: url });
      await git.setConfig({ fs: mirrorFs, dir: options.cacheDir, path: 'remote.origin.fetch', value: `+${branchRef}:refs/remotes/origin/${options.branch}` });
    } catch (error) {
      throw new SourceError('E_SOURCE_READ', `cannot create the mirror of ${url} in "${options.cacheDir}": ${(error as Error).message}`, { cause: error });
    }
    return new RemoteGitSource(url, options, options.credentials ?? credentials, new GitSource(options.cacheDir));
  }

  fetchHead(): Promise<BranchHead> {
    return this.serialFetch();
  }

  snapshotOf(sha: string): Promise<RepoSnapshot> {
    return snapshotOfCommit(this.git, sha, this.label);
  }

  private async fetchOnce(): Promise<BranchHead> {
    const ref = `refs/heads/${this.branch}`;
    const { username, password } = this.credentials ?? {};
    let sha: string | null;
    try {
      // Full history (no depth): telling a force-push from a fast-forward needs the ancestry.
      const result = await git.fetch({
        fs: mirrorFs,
        http: this.http,
        dir: this.git.repository.dir,
        remote: 'origin',
        url: this.url,
        // `ref` names the local branch whose head is offered as "have", so only new objects come.
        ref,
        remoteRef: ref,
        singleBranch: true,
        tags: false,
        ...(this.credentials ? { onAuth: () => ({ username, password }) } : {}),
      });
      sha = result.fetchHead;
    } catch (error) {
      throw this.fetchError(error);
    }
    if (!sha) throw new SourceError('E_REF_NOT_FOUND', `branch "${this.branch}" not found at ${this.label}: the repository is empty`);
    await git.writeRef({ fs: mirrorFs, dir: this.git.repository.dir, ref, value: sha, force: true });
    this.git.repository.refresh();
    return this.heads.advance(sha, this.git.repository);
  }

  private fetchError(error: unknown): SourceError {
    const { code, data } = error as { code?: string; data?: { statusCode?: number } };
    const status = code === 'HttpError' ? data?.statusCode : undefined;
    if (status === 401 || status === 403 || status === 203) {
      const message = this.credentials
        ? `${this.label} refused the credentials of user "${this.credentials.username}" (HTTP ${status})`
        : `${this.label} requires credentials (HTTP ${status}) and none were given`;
      return new SourceError('E_AUTH_FAILED', message, { cause: error });
    }
    if (status === 404) return new SourceError('E_REPO_NOT_FOUND', `no git repository at ${this.label} (HTTP 404)`, { cause: error });
    if (code === 'NotFoundError') {
      return new SourceError('E_REF_NOT_FOUND', `branch "${this.branch}" not found at ${this.label}`, { cause: error });
    }
    const reason = this.redact(error instanceof Error ? error.message : String(error));
    return new SourceError('E_FETCH_FAILED', `fetching branch "${this.branch}" of ${this.label} failed: ${reason}`, { cause: error });
  }

  /** Messages come from lower layers too; make sure none repeats the password. */
  private redact(message: string): string {
    const password = this.credentials?.password;
    return password ? message.split(password).join('***') : message;
  }
}

/** Splits credentials out of an http(s) URL; the rest is what messages and requests use. */
export function parseRemoteUrl(address: string): { url: string; credentials?: Credentials } {
  let parsed: URL;
  try {
    parsed = new URL(address);
  } catch {
    throw new SourceError('E_UNSUPPORTED_URL', `"${redactUrl(address)}" is not a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new SourceError('E_UNSUPPORTED_URL', `"${parsed.protocol}" repositories cannot be fetched: use an http(s) URL or a local path`);
  }
  const credentials = parsed.username || parsed.password
    ? { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) }
    : undefined;
  parsed.username = '';
  parsed.password = '';
  // isomorphic-git appends `/info/refs`: a trailing slash would double it.
  const url = parsed.toString().replace(/\/+$/, '');
  return credentials ? { url, credentials } : { url };
}
