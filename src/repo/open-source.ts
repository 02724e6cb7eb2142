// Picks the controller's source for a `--repo` value: http(s) URLs are fetched into a mirror,
// file:// URLs and paths are read in place (isomorphic-git cannot fetch from either).
import { fileURLToPath } from 'node:url';
import type { ControllerSource } from './controller-source.js';
import { LocalBranchSource } from './local-branch-source.js';
import { redactUrl } from '../util/redact-url.js';
import { RemoteGitSource, type Credentials } from './remote-git-source.js';
import { SourceError } from './source.js';

export interface ControllerSourceOptions {
  /** For a private remote; ignored for a local repository. */
  readonly credentials?: Credentials;
  readonly timeoutMs?: number;
}

/**
 * `cacheDir` belongs to the source: a remote's mirror lives there, and for both kinds the head of
 * the last fetch, so a restart still recognises a force-push.
 */
export async function openControllerSource(repo: string, branch: string, cacheDir: string, options: ControllerSourceOptions = {}): Promise<ControllerSource> {
  if (/^https?:\/\//i.test(repo)) return RemoteGitSource.open({ url: repo, branch, cacheDir, ...options });
  if (/^file:\/\//i.test(repo)) return new LocalBranchSource(fileURLToPath(repo), branch, cacheDir);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(repo)?.[1];
  // `user@host:path` is git's scp-like ssh address.
  if (scheme || /^[^/\\:]+@[^/\\:]+:/.test(repo)) {
    throw new SourceError('E_UNSUPPORTED_URL', `cannot fetch "${scheme ?? 'ssh'}" repositories (${redactUrl(repo)}): use an http(s) URL or a local path`);
  }
  return new LocalBranchSource(repo, branch, cacheDir);
}

