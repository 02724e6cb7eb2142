import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { splitSignature, verifyCommitSignature } from '../../src/repo/commit-signature.js';
import { GitRepository } from '../../src/repo/git-repository.js';
import { createGitFleet } from '../fixtures/git-fleet.js';
import { removeDir } from '../fixtures/small-fleet.js';
import { createSigningKey, signedCommit, writeAllowedSigners } from '../fixtures/ssh-signing.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ygg-signature-test-'));
after(() => removeDir(dir));

describe('commit signatures', () => {
  const fleet = createGitFleet(path.join(dir, 'fleet'));
  const alice = createSigningKey(dir, 'alice', 'alice@example.com');
  const mallory = createSigningKey(dir, 'mallory', 'mallory@example.com');
  const allowed = { sshFile: writeAllowedSigners(path.join(dir, 'allowed_signers'), [alice]) };
  const repository = new GitRepository(fleet.dir);
  const raw = (sha: string) => execFileSync('git', ['cat-file', 'commit', sha], { cwd: fleet.dir, encoding: 'utf8' });

  it('accepts a commit git signed with an allowed key, naming the signer', async () => {
    const sha = signedCommit(fleet.dir, alice, 'Signed by Alice');
    assert.deepEqual(await verifyCommitSignature(await repository.readSignedCommit(sha), allowed), { ok: true, signer: 'alice@example.com' });
  });

  it('refuses an unsigned commit, one signed by a key not allowed, and a signed commit whose content was changed', async () => {
    const unsigned = fleet.commit('Not signed', { 'notes.txt': 'unsigned\n' });
    assert.match(verdictReason(await verifyCommitSignature(await repository.readSignedCommit(unsigned), allowed)), /^the commit is not signed/);
    const byMallory = signedCommit(fleet.dir, mallory, 'Signed by Mallory');
    assert.match(verdictReason(await verifyCommitSignature(await repository.readSignedCommit(byMallory), allowed)), /not in the allowed signers/);
    const signed = await repository.readSignedCommit(signedCommit(fleet.dir, alice, 'Signed again'));
    const forged = { ...signed, payload: signed.payload.replace('Signed again', 'Signed and changed') };
    assert.match(verdictReason(await verifyCommitSignature(forged, allowed)), /^the commit's signature does not verify \(.*\)$/);
  });

  it('splits the signature off exactly as git signs: payload and signature put back give the raw commit', () => {
    const sha = signedCommit(fleet.dir, alice, 'Line one\n\nbody');
    const { payload, signature } = splitSignature(raw(sha));
    assert.ok(signature?.startsWith('-----BEGIN SSH SIGNATURE-----\n') && signature.endsWith('-----END SSH SIGNATURE-----\n'));
    assert.doesNotMatch(payload, /gpgsig|SSH SIGNATURE/);
    const indented = signature!.trimEnd().split('\n').join('\n ');
    assert.equal(payload.replace(/\n\n/, `\ngpgsig ${indented}\n\n`), raw(sha));
    assert.deepEqual(splitSignature('tree abc\nauthor a\n\nmessage\n'), { payload: 'tree abc\nauthor a\n\nmessage\n' });
  });
});

function verdictReason(verdict: Awaited<ReturnType<typeof verifyCommitSignature>>): string {
  assert.equal(verdict.ok, false);
  return verdict.ok ? '' : verdict.reason;
}
