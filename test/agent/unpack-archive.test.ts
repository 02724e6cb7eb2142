import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { ArchiveUnpackError, UnsafeArchiveError, unpackArchive } from '../../src/agent/unpack-archive.js';

const EXAMPLE = path.resolve('example-repo/artifacts/echo-server-1.1.0.tar.gz');
const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'ygg-unpack-'));
after(() => fs.rm(scratch, { recursive: true, force: true }));

interface RawEntry {
  readonly path: string;
  readonly type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'FIFO' | 'CharacterDevice';
  readonly body?: string;
  readonly linkpath?: string;
  readonly mode?: number;
}

/**
 * Writes a .tar.gz header by header: node-tar's create() cleans paths, so a hostile archive
 * (`../evil`, `/abs`) has to be assembled by hand, as an attacker would.
 */
async function writeRawArchive(name: string, entries: readonly RawEntry[]): Promise<string> {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.body ?? '');
    const type = entry.type ?? 'File';
    const header = new tar.Header({
      path: entry.path,
      type,
      mode: entry.mode ?? (type === 'Directory' ? 0o755 : 0o644),
      size: type === 'File' ? body.length : 0,
      mtime: new Date(0),
      uid: 0,
      gid: 0,
      ...(entry.linkpath !== undefined ? { linkpath: entry.linkpath } : {}),
    });
    header.encode();
    blocks.push(header.block!);
    if (type === 'File' && body.length > 0) blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  const file = path.join(scratch, name);
  await fs.writeFile(file, gzipSync(Buffer.concat(blocks)));
  return file;
}

let caseCounter = 0;
/** A fresh parent directory, with a sentinel beside the destination to catch writes that escape. */
async function freshParent(): Promise<{ parent: string; dest: string }> {
  const parent = path.join(scratch, `case-${++caseCounter}`, 'releases');
  await fs.mkdir(parent, { recursive: true });
  return { parent, dest: path.join(parent, 'new') };
}

/** The destination does not exist and the parent holds nothing (no temp dir, no escaped file). */
async function assertNothingUnpacked(parent: string) {
  assert.deepEqual(await fs.readdir(parent), []);
  assert.deepEqual(await fs.readdir(path.dirname(parent)), ['releases']);
}

async function assertUnsafe(archive: string, parent: string, dest: string, expected: readonly { path: string; reason: RegExp }[]) {
  await assert.rejects(unpackArchive(archive, dest), (error: unknown) => {
    assert.ok(error instanceof UnsafeArchiveError, String(error));
    assert.equal(error.code, 'E_ARCHIVE_UNSAFE');
    assert.equal(error.archive, archive);
    assert.deepEqual(error.entries.map((entry) => entry.path), expected.map((entry) => entry.path));
    error.entries.forEach((entry, index) => assert.match(entry.reason, expected[index]!.reason));
    assert.ok(error.message.includes(JSON.stringify(expected[0]!.path)), error.message);
    return true;
  });
  await assertNothingUnpacked(parent);
}

test('unpacks the example release with its modes', async () => {
  const { parent, dest } = await freshParent();
  await unpackArchive(EXAMPLE, dest);
  assert.deepEqual(await fs.readdir(parent), ['new']);
  assert.deepEqual((await fs.readdir(dest)).sort(), ['bin', 'package.json']);
  assert.equal((await fs.stat(path.join(dest, 'bin/server.js'))).mode & 0o777, 0o755);
  assert.match(await fs.readFile(path.join(dest, 'package.json'), 'utf8'), /"version": "1.1.0"/);
});

test('keeps symlinks that stay inside; strips setuid bits', async () => {
  const { dest } = await freshParent();
  const archive = await writeRawArchive('inside.tgz', [
    { path: 'lib/', type: 'Directory' },
    { path: 'lib/v1/', type: 'Directory' },
    { path: 'lib/v1/a.txt', body: 'a' },
    { path: 'lib/current', type: 'SymbolicLink', linkpath: 'v1' },
    { path: 'bin/', type: 'Directory' },
    { path: 'bin/a', type: 'SymbolicLink', linkpath: '../lib/v1/a.txt' },
    { path: 'bin/hard', type: 'Link', linkpath: 'lib/v1/a.txt' },
    { path: 'bin/tool', body: '#!/bin/sh\n', mode: 0o4755 },
  ]);
  await unpackArchive(archive, dest);
  assert.equal(await fs.readFile(path.join(dest, 'lib/current/a.txt'), 'utf8'), 'a');
  assert.equal(await fs.readFile(path.join(dest, 'bin/a'), 'utf8'), 'a');
  assert.equal(await fs.readFile(path.join(dest, 'bin/hard'), 'utf8'), 'a');
  assert.equal((await fs.stat(path.join(dest, 'bin/tool'))).mode & 0o7777, 0o755);
});

test('refuses an entry with ../', async () => {
  const { parent, dest } = await freshParent();
  const archive = await writeRawArchive('dotdot.tgz', [{ path: 'ok.txt', body: 'fine' }, { path: '../evil', body: 'pwned' }]);
  await assertUnsafe(archive, parent, dest, [{ path: '../evil', reason: /\.\./ }]);
});

test('refuses an absolute path', async () => {
  const { parent, dest } = await freshParent();
  const target = path.join(scratch, 'absolute-target');
  const archive = await writeRawArchive('absolute.tgz', [{ path: target, body: 'pwned' }]);
  await assertUnsafe(archive, parent, dest, [{ path: target, reason: /absolute/ }]);
  await assert.rejects(fs.stat(target), { code: 'ENOENT' });
});

test('refuses a symlink to /etc, and whatever is written through it', async () => {
  const { parent, dest } = await freshParent();
  const archive = await writeRawArchive('symlink-etc.tgz', [
    { path: 'etc', type: 'SymbolicLink', linkpath: '/etc' },
    { path: 'etc/ygg-pwned', body: 'pwned' },
  ]);
  await assertUnsafe(archive, parent, dest, [
    { path: 'etc', reason: /absolute/ },
    { path: 'etc/ygg-pwned', reason: /through the symlink etc/ },
  ]);
  await assert.rejects(fs.stat('/etc/ygg-pwned'), { code: 'ENOENT' });
});

test('refuses links that climb out, directly or through a chain of symlinks', async () => {
  const { parent, dest } = await freshParent();
  const archive = await writeRawArchive('climb.tgz', [
    { path: 'a/', type: 'Directory' },
    { path: 'a/up', type: 'SymbolicLink', linkpath: '../..' },
    // Each looks inside on its own: a/b is the root, so a/b/.. is its parent.
    { path: 'c', type: 'SymbolicLink', linkpath: 'a/b/..' },
    { path: 'a/b', type: 'SymbolicLink', linkpath: '..' },
    { path: 'hard', type: 'Link', linkpath: '../outside' },
    { path: 'loop', type: 'SymbolicLink', linkpath: 'loop' },
  ]);
  await assertUnsafe(archive, parent, dest, [
    { path: 'a/up', reason: /outside/ },
    { path: 'hard', reason: /outside/ },
    { path: 'loop', reason: /loops/ },
    { path: 'c', reason: /outside/ },
  ]);
});

test('refuses devices and fifos', async () => {
  const { parent, dest } = await freshParent();
  const archive = await writeRawArchive('devices.tgz', [
    { path: 'null', type: 'CharacterDevice' },
    { path: 'pipe', type: 'FIFO' },
  ]);
  await assertUnsafe(archive, parent, dest, [
    { path: 'null', reason: /CharacterDevice/ },
    { path: 'pipe', reason: /FIFO/ },
  ]);
});

test('a corrupt archive is E_ARCHIVE_INVALID and leaves nothing', async () => {
  const { parent, dest } = await freshParent();
  const whole = await fs.readFile(EXAMPLE);
  const truncated = path.join(scratch, 'truncated.tgz');
  await fs.writeFile(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
  await assert.rejects(unpackArchive(truncated, dest), (error: unknown) => {
    assert.ok(error instanceof ArchiveUnpackError, String(error));
    assert.deepEqual([error.code, error.retryable], ['E_ARCHIVE_INVALID', false]);
    return true;
  });
  await assertNothingUnpacked(parent);
});

test('refuses to unpack over an existing destination', async () => {
  const { dest } = await freshParent();
  await fs.mkdir(dest);
  await assert.rejects(unpackArchive(EXAMPLE, dest), { code: 'E_UNPACK_DEST_EXISTS' });
  assert.deepEqual(await fs.readdir(dest), []);
});
