// Fetches a file by URL into the agent's content-addressed cache and returns the path of a copy
// whose sha256 is the one asked for. The cache is named by digest, so a file there is either
// exactly right or absent: downloads stream into a temporary file while being hashed and are
// renamed into place only once verified, and a failure removes the temporary file.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { redactUrl } from '../util/redact-url.js';
import { assertDigest } from './agent-layout.js';
import { readJsonFile } from './read-json-file.js';

export interface ArtifactRef {
  readonly url: string;
  readonly sha256: string;
}

export interface FetchArtifactOptions {
  readonly signal?: AbortSignal;
  /** For the whole download. A stalled server must not block a deploy forever. */
  readonly timeoutMs?: number;
  /** Rehash a cached file instead of trusting its recorded size and mtime. */
  readonly rehashCached?: boolean;
  /** Called when the file was not cached and has now been downloaded: the cache grew. */
  readonly onDownloaded?: () => void;
}

export const DEFAULT_FETCH_TIMEOUT_MS = 600_000;

export type ArtifactFetchErrorCode = 'E_ARTIFACT_URL' | 'E_ARTIFACT_FETCH' | 'E_ARTIFACT_TIMEOUT' | 'E_DISK_FULL';

/** The file could not be got. `retryable`: a server error or a timeout may pass; a 404 will not. */
export class ArtifactFetchError extends Error {
  constructor(
    readonly code: ArtifactFetchErrorCode,
    readonly url: string,
    reason: string,
    readonly retryable: boolean,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`fetching ${url} failed: ${reason}`, options);
    this.name = 'ArtifactFetchError';
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, url: this.url, retryable: this.retryable, status: this.status };
  }
}

/** The bytes do not have the pinned digest: the repo or the source is wrong, retrying won't help. */
export class ArtifactDigestError extends Error {
  readonly code = 'E_ARTIFACT_DIGEST';
  readonly retryable = false;
  constructor(
    readonly url: string,
    readonly expected: string,
    readonly actual: string,
    readonly sizeBytes: number,
  ) {
    super(`${url}: sha256 mismatch: expected ${expected}, got ${actual} (${sizeBytes} bytes)`);
    this.name = 'ArtifactDigestError';
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, url: this.url, expected: this.expected, actual: this.actual };
  }
}

/** Written beside a verified file: lets a later fetch trust it from one stat instead of a rehash. */
interface VerifiedStamp {
  readonly sha256: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

let sequence = 0;

const PARTIAL_SUFFIX = '.partial';

/** A download in progress, or left by an agent that crashed during one (see removePartialDownloads). */
export function isPartialDownload(name: string): boolean {
  return name.startsWith('.') && name.endsWith(PARTIAL_SUFFIX);
}

export async function fetchArtifact(ref: ArtifactRef, cacheDir: string, options: FetchArtifactOptions = {}): Promise<string> {
  assertDigest('sha256', ref.sha256);
  const url = redactUrl(ref.url);
  const cached = path.join(cacheDir, ref.sha256);
  if (await isVerified(cached, ref.sha256, options.rehashCached ?? false)) return cached;

  await fs.mkdir(cacheDir, { recursive: true });
  const temporary = path.join(cacheDir, `.${ref.sha256}.${process.pid}.${++sequence}${PARTIAL_SUFFIX}`);
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const source = await openSource(ref.url, url, signal);
    const hash = createHash('sha256');
    let size = 0;
    await pipeline(
      source,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      // `wx`: a leftover file of the same name is never appended to or followed if a symlink.
      createWriteStream(temporary, { flags: 'wx', mode: 0o600 }),
      { signal },
    );
    const actual = hash.digest('hex');
    if (actual !== ref.sha256) throw new ArtifactDigestError(url, ref.sha256, actual, size);
    // Flushed before the rename: after a power cut the name must not point at an empty file.
    const handle = await fs.open(temporary, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    // Read-only: the cache is shared by every release that uses this digest.
    await fs.chmod(temporary, 0o444);
    await fs.rename(temporary, cached);
    await writeStamp(cached, ref.sha256);
    options.onDownloaded?.();
    return cached;
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw classify(error, url, options.signal, timeout);
  }
}

async function openSource(rawUrl: string, url: string, signal: AbortSignal): Promise<Readable> {
  let parsed: URL;
  try {
    parsed = new URL(rawUrl);
  } catch {
    throw new ArtifactFetchError('E_ARTIFACT_URL', url, 'not a valid URL', false);
  }
  if (parsed.protocol === 'file:') {
    const stream = createReadStream(fileURLToPath(parsed));
    // Opening is lazy: surface a missing file here, as an error about this URL.
    await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
    return stream;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ArtifactFetchError('E_ARTIFACT_URL', url, `unsupported scheme ${parsed.protocol} (file, http and https are)`, false);
  }
  // fetch() refuses URLs with credentials; an artifact server behind basic auth is common enough.
  const headers: Record<string, string> = {};
  if (parsed.username || parsed.password) {
    const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
    parsed.username = '';
    parsed.password = '';
  }
  const response = await fetchRetryingStaleConnection(parsed, { signal, redirect: 'follow', headers });
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    // Worth retrying: the server is struggling or asks us to come back; a 4xx is the URL's fault.
    const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
    throw new ArtifactFetchError('E_ARTIFACT_FETCH', url, `HTTP ${response.status} ${response.statusText}`, retryable, response.status);
  }
  return Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
}

/**
 * fetch() keeps connections open and reuses them; the server closes an idle one after its keep-alive
 * timeout (Node's: 5 s, hinted to the client, which stops reusing 1 s earlier). A client whose event
 * loop lags more than that margin (hundreds of agents per process at fleet start) can still send a
 * request down a connection the server has just closed, and gets "other side closed" or ECONNRESET
 * before any response. A GET is idempotent, so it is sent again once, on a fresh connection, as
 * HTTP/1.1 clients do (RFC 9112 §9.3.1); a second failure is the server's and is reported.
 */
async function fetchRetryingStaleConnection(url: URL, init: RequestInit & { signal: AbortSignal }): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (init.signal.aborted || (code !== 'UND_ERR_SOCKET' && code !== 'ECONNRESET')) throw error;
    return fetch(url, init);
  }
}

function classify(error: unknown, url: string, callerSignal: AbortSignal | undefined, timeout: AbortSignal): unknown {
  if (error instanceof ArtifactFetchError || error instanceof ArtifactDigestError) return error;
  // The caller's own abort goes back to it unchanged: it is not a fault of the artifact.
  if (callerSignal?.aborted) return callerSignal.reason;
  if (timeout.aborted) return new ArtifactFetchError('E_ARTIFACT_TIMEOUT', url, 'timed out', true, undefined, { cause: error });
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new ArtifactFetchError('E_DISK_FULL', url, 'no space left in the artifact cache', true, undefined, { cause: error });
  }
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
    return new ArtifactFetchError('E_ARTIFACT_FETCH', url, (error as Error).message, false, undefined, { cause: error });
  }
  // fetch() reports refused connections, resets and DNS failures as a TypeError with a cause.
  const cause = (error as { cause?: { message?: string } }).cause?.message;
  const reason = cause ? `${(error as Error).message}: ${cause}` : String((error as Error).message ?? error);
  return new ArtifactFetchError('E_ARTIFACT_FETCH', url, reason, true, undefined, { cause: error });
}

async function isVerified(file: string, sha256: string, rehash: boolean): Promise<boolean> {
  let stat;
  try {
    stat = await fs.lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  if (!stat.isFile()) {
    await fs.rm(file, { recursive: true, force: true });
    return false;
  }
  if (!rehash) {
    const stamp = await readStamp(file);
    if (stamp && stamp.sha256 === sha256 && stamp.size === stat.size && stamp.mtimeMs === stat.mtimeMs && stamp.ino === stat.ino) {
      return true;
    }
  }
  // No stamp, or the file changed since it was verified: trust only its bytes.
  if ((await hashFile(file)) === sha256) {
    await writeStamp(file, sha256);
    return true;
  }
  await fs.rm(file, { force: true });
  await fs.rm(stampPath(file), { force: true });
  return false;
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The stamp beside each verified file is named after it with this suffix. */
export const VERIFIED_STAMP_SUFFIX = '.verified';

function stampPath(file: string): string {
  return `${file}${VERIFIED_STAMP_SUFFIX}`;
}

async function readStamp(file: string): Promise<VerifiedStamp | undefined> {
  return readJsonFile<VerifiedStamp>(stampPath(file));
}

async function writeStamp(file: string, sha256: string): Promise<void> {
  const stat = await fs.stat(file);
  const stamp: VerifiedStamp = { sha256, size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino };
  await fs.writeFile(stampPath(file), `${JSON.stringify(stamp)}\n`);
}
