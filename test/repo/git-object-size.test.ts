import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createObjectSizeReader } from '../../src/repo/git-object-size.js';

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A repo with a large blob of zeros and two versions of a text file (so a pack holds a delta). */
function repoWithObjects(): { dir: string; git: (...args: string[]) => string; blobs: string[] } {
  const dir = mkdtempSync(path.join(tmpdir(), 'ygg-object-size-'));
  dirs.push(dir);
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 26 }).trim();
  git('init', '-q', '-b', 'main');
  const lines = Array.from({ length: 20_000 }, (_, index) => `line ${index}: ${'x'.repeat(index % 50)}`);
  writeFileSync(path.join(dir, 'zeros.yaml'), Buffer.alloc(20 * 1024 * 1024));
  writeFileSync(path.join(dir, 'text.yaml'), lines.join('\n'));
  writeFileSync(path.join(dir, 'empty.yaml'), '');
  git('add', '-A');
  git('commit', '-qm', 'one');
  writeFileSync(path.join(dir, 'text.yaml'), [...lines, 'one more line'].join('\n'));
  git('add', '-A');
  git('commit', '-qm', 'two');
  const blobs = ['HEAD:zeros.yaml', 'HEAD:text.yaml', 'HEAD~1:text.yaml', 'HEAD:empty.yaml'].map((spec) => git('rev-parse', spec));
  return { dir, git, blobs };
}

describe('object sizes from headers', () => {
  it('reads the sizes of loose objects, then of packed objects and deltas after a gc', async () => {
    const { dir, git, blobs } = repoWithObjects();
    const expected = blobs.map((oid) => Number(git('cat-file', '-s', oid)));
    const reader = createObjectSizeReader(path.join(dir, '.git'));
    assert.deepEqual(await Promise.all(blobs.map((oid) => reader.sizeOf(oid))), expected);

    git('gc', '-q', '--aggressive');
    assert.equal(git('count-objects', '-v').match(/^count: (\d+)/m)![1], '0', 'every object is packed');
    const packDir = path.join(dir, '.git/objects/pack');
    const index = readdirSync(packDir).find((name) => name.endsWith('.idx'))!;
    // verify-pack lines of deltified objects end in "<depth> <base oid>".
    const deltified = git('verify-pack', '-v', path.join(packDir, index)).split('\n').filter((line) => /^[0-9a-f]{40} blob .* \d+ [0-9a-f]{40}$/.test(line));
    assert.ok(deltified.some((line) => blobs.includes(line.slice(0, 40))), 'one text version is stored as a delta');
    reader.refresh();
    assert.deepEqual(await Promise.all(blobs.map((oid) => reader.sizeOf(oid))), expected);
    assert.equal(await reader.sizeOf('0123456789012345678901234567890123456789'), undefined);
  });

  it('finds each of thousands of packed objects, asked for at once', async () => {
    const { dir, git } = repoWithObjects();
    for (let index = 0; index < 3000; index++) writeFileSync(path.join(dir, `many-${index}.yaml`), `index: ${index}\n${'x'.repeat(index % 300)}\n`);
    git('add', '-A');
    git('commit', '-qm', 'many');
    git('gc', '-q');
    const listing = git('ls-tree', '-r', '-l', 'HEAD').split('\n').map((line) => line.split(/\s+/));
    const reader = createObjectSizeReader(path.join(dir, '.git'));
    const sizes = await Promise.all(listing.map(([, , oid]) => reader.sizeOf(oid!)));
    assert.deepEqual(sizes, listing.map(([, , , size]) => Number(size)));
  });
});
