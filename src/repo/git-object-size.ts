// The size of a git object, read from its header without inflating the object. A size limit has to
// hold before reading: a hostile commit's 4 GiB blob of zeros packs into a few MiB, and inflating it
// to measure it would already be the damage. isomorphic-git has no such call (it inflates whole
// objects), so this reads pack indexes (version 2) and object headers itself.
// A load asks for thousands of sizes at once: requests made in the same tick are served together,
// packed objects with one read per stretch of the pack that holds them, not one read each.
import fs from 'node:fs/promises';
import path from 'node:path';
import { constants, inflateSync } from 'node:zlib';

const PACK_INDEX_MAGIC = 0xff744f63;
const OFS_DELTA = 6;
const REF_DELTA = 7;
/** Object headers fit in a few dozen bytes; a delta's sizes come in its first inflated bytes. */
const HEADER_BYTES = 512;
/** Objects closer than this share a read; farther apart (a large blob between them), they do not. */
const MAX_GAP_BYTES = 64 * 1024;
const MAX_READ_BYTES = 4 * 1024 * 1024;
/** Loose objects are files of their own: this many open at once. */
const LOOSE_READS_AT_ONCE = 32;

interface PackIndex {
  readonly packFile: string;
  readonly index: Buffer;
  readonly count: number;
}

interface SizeRequest {
  readonly oid: string;
  readonly resolve: (size: number | undefined) => void;
  readonly reject: (error: unknown) => void;
}

export interface ObjectSizeReader {
  /** The object's size in bytes; undefined when it is in neither a pack nor a loose file known here. */
  sizeOf(oid: string): Promise<number | undefined>;
  /** Forgets the pack list: call after objects were written (a fetch, a gc). */
  refresh(): void;
}

export function createObjectSizeReader(gitdir: string): ObjectSizeReader {
  const objectsDir = path.join(gitdir, 'objects');
  let packs: Promise<PackIndex[]> | undefined;
  let batch: SizeRequest[] | undefined;

  const serve = async (requests: readonly SizeRequest[]) => {
    packs ??= loadPacks(path.join(objectsDir, 'pack'));
    const byPack = new Map<PackIndex, { offset: number; request: SizeRequest }[]>();
    const loose: SizeRequest[] = [];
    const found = await packs;
    for (const request of requests) {
      const name = Buffer.from(request.oid, 'hex');
      let placed = false;
      for (const pack of found) {
        const offset = findOffset(pack, name);
        if (offset === undefined) continue;
        const objects = byPack.get(pack);
        if (objects) objects.push({ offset, request });
        else byPack.set(pack, [{ offset, request }]);
        placed = true;
        break;
      }
      if (!placed) loose.push(request);
    }
    await Promise.all([...byPack].map(([pack, objects]) => readPackedSizes(pack.packFile, objects)));
    for (let start = 0; start < loose.length; start += LOOSE_READS_AT_ONCE) {
      await Promise.all(
        loose.slice(start, start + LOOSE_READS_AT_ONCE).map(async ({ oid, resolve }) => {
          const file = await readRange(path.join(objectsDir, oid.slice(0, 2), oid.slice(2)), 0, HEADER_BYTES).catch((error: NodeJS.ErrnoException) => {
            if (error.code === 'ENOENT') return undefined;
            throw error;
          });
          resolve(file && looseObjectSize(file));
        }),
      );
    }
  };

  return {
    sizeOf(oid) {
      return new Promise((resolve, reject) => {
        if (!batch) {
          const requests: SizeRequest[] = (batch = []);
          setImmediate(() => {
            batch = undefined;
            serve(requests).catch((error: unknown) => requests.forEach((request) => request.reject(error)));
          });
        }
        batch.push({ oid, resolve, reject });
      });
    },
    refresh() {
      packs = undefined;
    },
  };
}

async function loadPacks(packDir: string): Promise<PackIndex[]> {
  const names = await fs.readdir(packDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  const indexes = await Promise.all(
    names.filter((name) => name.endsWith('.idx')).map(async (name): Promise<PackIndex | undefined> => {
      const index = await fs.readFile(path.join(packDir, name));
      if (index.length < 8 + 1024 || index.readUInt32BE(0) !== PACK_INDEX_MAGIC || index.readUInt32BE(4) !== 2) return undefined;
      return { packFile: path.join(packDir, `${name.slice(0, -4)}.pack`), index, count: index.readUInt32BE(8 + 255 * 4) };
    }),
  );
  return indexes.filter((index): index is PackIndex => index !== undefined);
}

/** Binary search in the sorted object names of a version 2 index; the object's offset in the pack. */
function findOffset({ index, count }: PackIndex, name: Buffer): number | undefined {
  const names = 8 + 1024;
  let low = name[0] === 0 ? 0 : index.readUInt32BE(8 + (name[0]! - 1) * 4);
  let high = index.readUInt32BE(8 + name[0]! * 4);
  while (low < high) {
    const middle = (low + high) >>> 1;
    const order = name.compare(index, names + middle * 20, names + middle * 20 + 20);
    if (order === 0) {
      const offsets = names + count * 24;
      const offset = index.readUInt32BE(offsets + middle * 4);
      // The top bit marks an offset past 2 GiB, kept in the table of 64-bit offsets after this one.
      if (offset < 0x80000000) return offset;
      return Number(index.readBigUInt64BE(offsets + count * 4 + (offset & 0x7fffffff) * 8));
    }
    if (order < 0) high = middle;
    else low = middle + 1;
  }
  return undefined;
}

/** Reads the objects' headers in as few reads as their places in the pack allow. */
async function readPackedSizes(packFile: string, objects: { offset: number; request: SizeRequest }[]): Promise<void> {
  objects.sort((a, b) => a.offset - b.offset);
  const handle = await fs.open(packFile, 'r');
  try {
    for (let first = 0; first < objects.length; ) {
      let last = first;
      while (
        last + 1 < objects.length &&
        objects[last + 1]!.offset - objects[last]!.offset <= MAX_GAP_BYTES &&
        objects[last + 1]!.offset - objects[first]!.offset <= MAX_READ_BYTES
      ) {
        last++;
      }
      const start = objects[first]!.offset;
      const buffer = Buffer.alloc(objects[last]!.offset - start + HEADER_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
      for (let index = first; index <= last; index++) {
        const at = objects[index]!.offset - start;
        objects[index]!.request.resolve(packedObjectSize(buffer.subarray(at, Math.min(at + HEADER_BYTES, bytesRead))));
      }
      first = last + 1;
    }
  } finally {
    await handle.close();
  }
}

async function readRange(file: string, position: number, length: number): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Inflates as much of a zlib stream's beginning as `data` holds; empty when it is not one. */
function inflatePrefix(data: Buffer): Buffer {
  try {
    return inflateSync(data, { finishFlush: constants.Z_SYNC_FLUSH });
  } catch {
    return Buffer.alloc(0);
  }
}

/** A pack entry: type and size in a variable-length header; a delta's own header has the result's size. */
function packedObjectSize(entry: Buffer): number | undefined {
  let position = 0;
  let byte = entry[position++] ?? 0;
  const type = (byte >> 4) & 7;
  let size = byte & 15;
  for (let scale = 16; byte & 0x80; scale *= 128) {
    byte = entry[position++] ?? 0;
    size += (byte & 0x7f) * scale;
  }
  if (type !== OFS_DELTA && type !== REF_DELTA) return size;
  if (type === OFS_DELTA) while ((entry[position++] ?? 0) & 0x80);
  else position += 20;
  const delta = inflatePrefix(entry.subarray(position));
  // The delta starts with the base's size, then the result's, each a little-endian base-128 number.
  let cursor = 0;
  const readSize = (): number | undefined => {
    let value = 0;
    for (let scale = 1; cursor < delta.length; scale *= 128) {
      const next = delta[cursor++]!;
      value += (next & 0x7f) * scale;
      if (!(next & 0x80)) return value;
    }
    return undefined;
  };
  return readSize() === undefined ? undefined : readSize();
}

/** A loose object is a zlib stream of "<type> <size>\0<content>". */
function looseObjectSize(file: Buffer): number | undefined {
  const header = inflatePrefix(file);
  const end = header.indexOf(0);
  const match = end < 0 ? null : /^[a-z]+ (\d+)$/.exec(header.subarray(0, end).toString('latin1'));
  return match ? Number(match[1]) : undefined;
}
