// Unpacks a release tarball so that it cannot write, or later point, anywhere outside its
// directory, and so that a failure leaves nothing behind. Unsafe entries are refused, not skipped:
// an archive that tries to escape is broken or hostile, and half of it must not run.
//
// node-tar already strips absolute paths and `..` and will not write through symlinks, but it does
// so by skipping entries quietly; we check every entry ourselves before node-tar sees it, and keep
// node-tar's own checks (strict mode) as a second line.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tar from 'tar';

export interface UnsafeEntry {
  readonly path: string;
  readonly reason: string;
}

/** The archive holds entries that would escape its directory: the artifact must be rebuilt. */
export class UnsafeArchiveError extends Error {
  readonly code = 'E_ARCHIVE_UNSAFE';
  readonly retryable = false;
  constructor(
    readonly archive: string,
    readonly entries: readonly UnsafeEntry[],
  ) {
    super(`${archive}: refused, unsafe entries: ${entries.map((entry) => `${JSON.stringify(entry.path)} (${entry.reason})`).join('; ')}`);
    this.name = 'UnsafeArchiveError';
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, archive: this.archive, entries: this.entries };
  }
}

export type ArchiveUnpackErrorCode = 'E_ARCHIVE_INVALID' | 'E_DISK_FULL' | 'E_UNPACK_DEST_EXISTS' | 'E_UNPACK_FAILED';

/** Unpacking failed for another reason: a corrupt archive (not retryable), a full disk (retryable). */
export class ArchiveUnpackError extends Error {
  constructor(
    readonly code: ArchiveUnpackErrorCode,
    readonly archive: string,
    readonly destDir: string,
    reason: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(`unpacking ${archive} into ${destDir} failed: ${reason}`, options);
    this.name = 'ArchiveUnpackError';
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, archive: this.archive, destDir: this.destDir, retryable: this.retryable };
  }
}

const REGULAR_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory']);
/** Symlinks may chain; beyond this many hops a path is treated as a loop, as the kernel does. */
const MAX_LINK_HOPS = 40;

/**
 * Unpacks a tar (gzip detected) into `destDir`, which must not exist yet. The entries land in a
 * temporary directory beside it that is renamed to `destDir` only when every entry is written.
 */
export async function unpackArchive(tarGzPath: string, destDir: string): Promise<void> {
  const target = path.resolve(destDir);
  if (await exists(target)) {
    throw new ArchiveUnpackError('E_UNPACK_DEST_EXISTS', tarGzPath, target, 'the destination already exists', false);
  }
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.unpack-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(temporary, { recursive: false, mode: 0o755 });
  try {
    const checker = new EntryChecker();
    await tar.x({
      file: tarGzPath,
      cwd: temporary,
      // Every skipped entry becomes an error instead of a warning nobody reads.
      strict: true,
      // The agent runs as root: the archive must not choose owners (node-tar chowns as root).
      preserveOwner: false,
      filter: (_entryPath, entry) => checker.admit(entry as tar.ReadEntry),
    });
    // Links are checked again with every symlink of the archive known: an early link may resolve
    // through one that comes later.
    const unsafe = [...checker.unsafe, ...checker.recheckLinks()];
    if (unsafe.length > 0) throw new UnsafeArchiveError(tarGzPath, unsafe);
    await fs.rename(temporary, target);
  } catch (error) {
    await fs.rm(temporary, { recursive: true, force: true });
    throw classify(error, tarGzPath, target);
  }
}

/** Remembers what the archive has declared so far, to judge each entry and each link target. */
class EntryChecker {
  readonly unsafe: UnsafeEntry[] = [];
  /** Symlinks by their normalised path, value = their target as written. */
  private readonly symlinks = new Map<string, string>();
  private readonly links: { path: string; parts: string[]; hard: boolean; target: string }[] = [];

  admit(entry: tar.ReadEntry): boolean {
    const raw = entry.path;
    const reason = this.judge(entry);
    if (reason !== undefined) {
      this.unsafe.push({ path: raw, reason });
      return false;
    }
    // setuid/setgid files owned by root (we are root) would hand root to whoever runs the job.
    if (typeof entry.mode === 'number') entry.mode &= ~0o6000;
    return true;
  }

  private judge(entry: tar.ReadEntry): string | undefined {
    const raw = entry.path;
    if (raw.startsWith('/')) return 'absolute path';
    const parts = splitPath(raw);
    if (parts.includes('..')) return 'path contains ..';
    const type = String(entry.type);
    if (type !== 'SymbolicLink' && type !== 'Link' && !REGULAR_TYPES.has(type)) return `${type} entries are not allowed`;
    for (let depth = 1; depth < parts.length; depth++) {
      const prefix = parts.slice(0, depth).join('/');
      if (this.symlinks.has(prefix)) return `path goes through the symlink ${prefix}`;
    }
    if (type !== 'SymbolicLink' && type !== 'Link') return undefined;
    const target = String(entry.linkpath ?? '');
    // Known even when refused, so entries beneath a refused symlink are named too.
    if (type === 'SymbolicLink') this.symlinks.set(parts.join('/'), target);
    if (target === '') return 'link without a target';
    if (target.startsWith('/')) return `link to the absolute path ${target}`;
    const link = { path: raw, parts, hard: type === 'Link', target };
    const escapes = this.linkEscapes(link);
    // Only admitted links are checked again at the end; refused ones are already reported.
    if (escapes === undefined) this.links.push(link);
    return escapes;
  }

  recheckLinks(): UnsafeEntry[] {
    return this.links.flatMap((link) => {
      const reason = this.linkEscapes(link);
      return reason === undefined ? [] : [{ path: link.path, reason }];
    });
  }

  /** A hard link's target is relative to the archive root, a symlink's to its own directory. */
  private linkEscapes(link: { parts: string[]; hard: boolean; target: string }): string | undefined {
    const base = link.hard ? [] : link.parts.slice(0, -1);
    const resolved = this.resolve(base, link.target, 0);
    if (resolved === 'loop') return `link ${link.target} loops`;
    if (resolved === 'outside') return `link target ${link.target} resolves outside the archive`;
    return undefined;
  }

  /** Resolves `relative` from `base` as the kernel would, following the archive's symlinks. */
  private resolve(base: readonly string[], relative: string, hops: number): string[] | 'outside' | 'loop' {
    let current = [...base];
    for (const part of splitPath(relative)) {
      if (part === '..') {
        if (current.length === 0) return 'outside';
        current.pop();
        continue;
      }
      current.push(part);
      const target = this.symlinks.get(current.join('/'));
      if (target === undefined) continue;
      if (hops >= MAX_LINK_HOPS) return 'loop';
      if (target.startsWith('/')) return 'outside';
      const resolved = this.resolve(current.slice(0, -1), target, hops + 1);
      if (!Array.isArray(resolved)) return resolved;
      current = resolved;
    }
    return current;
  }
}

/** `./a//b/` → [a, b]: tar paths come with leading `./`, doubled and trailing slashes. */
function splitPath(value: string): string[] {
  return value.split('/').filter((part) => part !== '' && part !== '.');
}

function classify(error: unknown, archive: string, destDir: string): unknown {
  if (error instanceof UnsafeArchiveError || error instanceof ArchiveUnpackError) return error;
  const { code, tarCode } = error as { code?: string; tarCode?: string };
  const reason = (error as Error).message ?? String(error);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new ArchiveUnpackError('E_DISK_FULL', archive, destDir, 'no space left on the device', true, { cause: error });
  }
  // A truncated or corrupt artifact (bad gzip stream, bad header): the same bytes fail again.
  if ((code !== undefined && code.startsWith('Z_')) || ['TAR_BAD_ARCHIVE', 'TAR_ENTRY_INVALID', 'TAR_ABORT', 'TAR_ENTRY_UNSUPPORTED'].includes(tarCode ?? '')) {
    return new ArchiveUnpackError('E_ARCHIVE_INVALID', archive, destDir, reason, false, { cause: error });
  }
  return new ArchiveUnpackError('E_UNPACK_FAILED', archive, destDir, reason, true, { cause: error });
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
