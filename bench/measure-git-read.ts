// Measures how long isomorphic-git takes to read every YAML blob of one commit: a recursive
// readTree for the oids, then one readBlob per `.yaml` oid — once without and once with a shared
// `cache: {}` object passed to every call.
//
//   npx tsx bench/measure-git-read.ts [--dir bench/.work/fleet] [--ref HEAD] [--uncached-limit N]
//
// Without a cache, isomorphic-git re-reads and re-parses the pack index on every call (~16 ms a
// blob for a 17,500-object pack: ~4.5 min in all); --uncached-limit N reads only N blobs in that pass.
//
// Prints progress to stderr and the figures as JSON on stdout.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import git from 'isomorphic-git';
import { isMain } from './is-main.js';

export interface MeasureGitReadOptions {
  /** Working tree of the repo (objects are read from `dir/.git`). */
  dir: string;
  /** Ref or commit oid; default HEAD. */
  ref?: string;
  /** Read only the first N blobs in the pass without cache (it is slow: ~16 ms a blob on a packed repo). */
  uncachedLimit?: number;
}

export interface GitReadPass {
  /** Recursive readTree down to the oids. */
  listSeconds: number;
  /** readBlob of every `.yaml` oid, one after the other. */
  readSeconds: number;
  blobs: number;
  bytes: number;
  msPerBlob: number;
}

export interface GitReadMeasurement {
  commit: string;
  yamlFiles: number;
  withoutCache: GitReadPass;
  withCache: GitReadPass;
  /** Same as withCache, run again with the now-warm cache object. */
  withWarmCache: GitReadPass;
}

interface BlobEntry {
  path: string;
  oid: string;
}

async function listYamlBlobs(gitdir: string, commit: string, cache: object | undefined): Promise<BlobEntry[]> {
  const { commit: parsed } = await git.readCommit({ fs, gitdir, oid: commit, ...(cache ? { cache } : {}) });
  const found: BlobEntry[] = [];
  const visit = async (treeOid: string, prefix: string): Promise<void> => {
    const { tree } = await git.readTree({ fs, gitdir, oid: treeOid, ...(cache ? { cache } : {}) });
    for (const entry of tree) {
      const entryPath = prefix ? `${prefix}/${entry.path}` : entry.path;
      if (entry.type === 'tree') await visit(entry.oid, entryPath);
      else if (entry.type === 'blob' && entryPath.endsWith('.yaml')) found.push({ path: entryPath, oid: entry.oid });
    }
  };
  await visit(parsed.tree, '');
  return found;
}

async function pass(gitdir: string, commit: string, cache: object | undefined, limit = Infinity): Promise<GitReadPass> {
  let started = performance.now();
  const blobs = (await listYamlBlobs(gitdir, commit, cache)).slice(0, limit);
  const listSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  let bytes = 0;
  for (const blob of blobs) {
    const { blob: content } = await git.readBlob({ fs, gitdir, oid: blob.oid, ...(cache ? { cache } : {}) });
    bytes += content.byteLength;
  }
  const readSeconds = (performance.now() - started) / 1000;
  const msPerBlob = Math.round(((readSeconds * 1000) / Math.max(1, blobs.length)) * 1000) / 1000;
  return { listSeconds: round(listSeconds), readSeconds: round(readSeconds), blobs: blobs.length, bytes, msPerBlob };
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

export async function measureGitRead(options: MeasureGitReadOptions): Promise<GitReadMeasurement> {
  const gitdir = path.join(path.resolve(options.dir), '.git');
  const commit = await git.resolveRef({ fs, gitdir, ref: options.ref ?? 'HEAD' });
  const say = (label: string, p: GitReadPass) =>
    process.stderr.write(
      `measure-git-read: ${label}: readTree ${p.listSeconds.toFixed(2)} s, readBlob ×${p.blobs} ${p.readSeconds.toFixed(2)} s ` +
        `(${p.msPerBlob.toFixed(3)} ms each, ${(p.bytes / 1e6).toFixed(2)} MB)\n`,
    );
  const withoutCache = await pass(gitdir, commit, undefined, options.uncachedLimit);
  say('without cache', withoutCache);
  const cache = {};
  const withCache = await pass(gitdir, commit, cache);
  say('with cache   ', withCache);
  const withWarmCache = await pass(gitdir, commit, cache);
  say('warm cache   ', withWarmCache);
  return { commit, yamlFiles: withCache.blobs, withoutCache, withCache, withWarmCache };
}

const USAGE = 'usage: npx tsx bench/measure-git-read.ts [--dir bench/.work/fleet] [--ref HEAD] [--uncached-limit N]';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        dir: { type: 'string', default: 'bench/.work/fleet' },
        ref: { type: 'string', default: 'HEAD' },
        'uncached-limit': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const limitText = values['uncached-limit'];
  const uncachedLimit = limitText === undefined ? undefined : Number(limitText);
  if (uncachedLimit !== undefined && !(Number.isInteger(uncachedLimit) && uncachedLimit > 0)) {
    process.stderr.write(`--uncached-limit must be a positive integer\n${USAGE}\n`);
    return 2;
  }
  try {
    const result = await measureGitRead({ dir: values.dir, ref: values.ref, ...(uncachedLimit ? { uncachedLimit } : {}) });
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`measure-git-read: ${(error as Error).message}\n`);
    return 1;
  }
}

if (isMain(import.meta.url)) process.exitCode = await main();
