// GitSource reads commits with isomorphic-git through a file system that remembers the object
// store's listings: a commit written after they were taken, read by its sha, must still be found.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { GitSource } from '../../src/repo/git-source.js';
import { createGitFleet, type GitFleet } from '../fixtures/git-fleet.js';

describe('GitSource', () => {
  const fleets: GitFleet[] = [];
  after(() => {
    for (const fleet of fleets) rmSync(fleet.dir, { recursive: true, force: true });
  });

  it('reads by sha the commits made after it listed the object store, their trees and blobs too', async () => {
    const fleet = createGitFleet();
    fleets.push(fleet);
    const source = new GitSource(fleet.dir);
    const first = await source.snapshot('HEAD');
    // Sixty new objects: without a fresh listing some land in a directory listed above and are "missing".
    const commits = Array.from({ length: 20 }, (_, index) => ({ index, sha: fleet.commit(`note ${index}`, { [`note-${index}.txt`]: `note ${index}\n` }) }));
    for (const { index, sha } of commits) {
      const snapshot = await source.snapshotOf(sha);
      assert.equal(snapshot.commit?.sha, sha);
      assert.equal(snapshot.files.length, first.files.length + index + 1);
      const note = snapshot.files.find((file) => file.path === `note-${index}.txt`);
      assert.ok(note, `note-${index}.txt in ${sha}`);
      assert.equal(await snapshot.readText(note), `note ${index}\n`);
    }
  });
});
