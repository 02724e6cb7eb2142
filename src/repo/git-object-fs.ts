// A file system for isomorphic-git that remembers what the object store holds. isomorphic-git
// probes for a loose object (a failing open), lists objects/pack and stats .git on every single
// read; for thousands of blobs those misses cost more than the reads. Listings are remembered
// until `refresh()`, which the repository calls whenever it resolves a new revision (a fetch or
// gc may have added packs or loose objects since).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import type { PromiseFsClient } from 'isomorphic-git';

const LOOSE_OBJECT = /[\\/]objects[\\/]([0-9a-f]{2})[\\/][0-9a-f]{38}$/;

/** One shared error: isomorphic-git only checks the code, and building stack traces is the cost. */
const NOT_FOUND = Object.assign(new Error('ENOENT: no such object file'), { code: 'ENOENT' });

export interface GitObjectFs {
  readonly fs: PromiseFsClient;
  refresh(): void;
}

export function createGitObjectFs(gitdir: string): GitObjectFs {
  const objectsDir = path.join(gitdir, 'objects');
  const listings = new Map<string, Promise<Set<string>>>();
  const stats = new Map<string, Promise<fs.Stats>>();
  const list = (dir: string): Promise<Set<string>> => {
    let listing = listings.get(dir);
    if (!listing) {
      listing = fs.promises.readdir(dir).then(
        (names) => new Set(names),
        (error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return new Set<string>();
          throw error;
        },
      );
      listings.set(dir, listing);
    }
    return listing;
  };
  const underObjects = (file: string) => file.startsWith(objectsDir);
  const promises = {
    ...fs.promises,
    async readFile(file?: string, options?: unknown) {
      // isomorphic-git calls readFile() without a path on every API call to see if it returns a promise.
      if (file === undefined) throw NOT_FOUND;
      const loose = LOOSE_OBJECT.exec(file);
      if (loose && underObjects(file) && !(await list(path.dirname(file))).has(path.basename(file))) throw NOT_FOUND;
      return fs.promises.readFile(file, options as never);
    },
    async readdir(dir: string, options?: unknown) {
      if (options === undefined && underObjects(dir)) return [...(await list(dir))];
      return fs.promises.readdir(dir, options as never);
    },
    async stat(file: string) {
      // isomorphic-git re-discovers the git dir (a stat of .git) on every call.
      if (file !== gitdir) return fs.promises.stat(file);
      let stat = stats.get(file);
      if (!stat) {
        stat = fs.promises.stat(file);
        stats.set(file, stat);
      }
      return stat;
    },
  };
  return {
    fs: { promises },
    refresh() {
      listings.clear();
      stats.clear();
    },
  };
}

let nativeInflateInstalled = false;

/**
 * isomorphic-git inflates objects with pako, in JavaScript; zlib does the same in native code about
 * ten times faster, which matters when a commit has thousands of blobs. pako is a CommonJS module
 * that isomorphic-git calls through its exports object, so replacing `inflate` there is enough.
 */
export function useNativeInflate(): void {
  if (nativeInflateInstalled) return;
  const requireFromGit = createRequire(createRequire(import.meta.url).resolve('isomorphic-git'));
  const pako = requireFromGit('pako') as { inflate: (data: Uint8Array) => Uint8Array };
  pako.inflate = (data) => inflateSync(data);
  nativeInflateInstalled = true;
}
