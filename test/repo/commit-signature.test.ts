import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { splitSignature, verifyCommitSignature } from '../../src/repo/commit-signature.js';
import { GitRepository } from '../../src/repo/git-repository.js';
import { createGitFleet } from '../fixtures/git-fleet.js';
import { removeDir } from '../fixtures/small-fleet.js';
import { createSigningKey, signedCommit, writeAllowedSigners } from '../fixtures/ssh-signing.js';
import { createPgpKey, pgpSignedCommit, writeAllowedPgpKeys } from '../fixtures/pgp-signing.js';
import { readAllowedPgpKeys } from '../../src/repo/openpgp-signature.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ygg-signature-test-'));
after(() => removeDir(dir));

describe('commit signatures', () => {
  const fleet = createGitFleet(path.join(dir, 'fleet'));
  const alice = createSigningKey(dir, 'alice', 'alice@example.com');
  const mallory = createSigningKey(dir, 'mallory', 'mallory@example.com');
  const allowed = { sshFile: writeAllowedSigners(path.join(dir, 'allowed_signers'), [alice]) };
  const read = (sha: string) => readSigned(fleet.dir, sha);
  const raw = (sha: string) => execFileSync('git', ['cat-file', 'commit', sha], { cwd: fleet.dir, encoding: 'utf8' });

  it('accepts a commit git signed with an allowed key, naming the signer', async () => {
    const sha = signedCommit(fleet.dir, alice, 'Signed by Alice');
    assert.deepEqual(await verifyCommitSignature(await read(sha), allowed), { ok: true, signer: 'alice@example.com' });
  });

  it('refuses an unsigned commit, one signed by a key not allowed, and a signed commit whose content was changed', async () => {
    const unsigned = fleet.commit('Not signed', { 'notes.txt': 'unsigned\n' });
    assert.match(verdictReason(await verifyCommitSignature(await read(unsigned), allowed)), /^the commit is not signed/);
    const byMallory = signedCommit(fleet.dir, mallory, 'Signed by Mallory');
    assert.match(verdictReason(await verifyCommitSignature(await read(byMallory), allowed)), /not in the allowed signers/);
    const signed = await read(signedCommit(fleet.dir, alice, 'Signed again'));
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

describe('OpenPGP commit signatures (signed by gpg through git, verified by openpgp.js)', () => {
  const fleet = createGitFleet(path.join(dir, 'pgp-fleet'));
  const carol = createPgpKey(dir, 'carol', 'carol@example.com');
  const dave = createPgpKey(dir, 'dave', 'dave@example.com');
  const erin = createPgpKey(dir, 'erin', 'erin@example.com');
  after(() => [carol, dave, erin].forEach((key) => key.close()));
  // Two concatenated blocks, as `gpg --export --armor` run twice writes them: both keys count.
  const pgpKeysFile = writeAllowedPgpKeys(path.join(dir, 'allowed.asc'), [dave, carol]);
  const sshFile = writeAllowedSigners(path.join(dir, 'allowed_signers_ssh'), [createSigningKey(dir, 'frank', 'frank@example.com')]);
  const read = (sha: string) => readSigned(fleet.dir, sha);
  const check = async (sha: string, signers: Parameters<typeof verifyCommitSignature>[1]) => verifyCommitSignature(await read(sha), signers);

  it('accepts a commit signed by an allowed key of the file, naming the key', async () => {
    const sha = pgpSignedCommit(fleet.dir, carol, 'Signed by Carol');
    assert.deepEqual(await check(sha, { pgpKeysFile }), { ok: true, signer: `carol <carol@example.com> (${carol.fingerprint})` });
    assert.deepEqual((await check(sha, { sshFile, pgpKeysFile })).ok, true, 'with both flags, an OpenPGP signature is checked against the OpenPGP keys');
  });

  it('refuses a key not in the file, a changed payload, and an OpenPGP signature with only SSH signers', async () => {
    const byErin = pgpSignedCommit(fleet.dir, erin, 'Signed by Erin');
    const erinKeyId = erin.fingerprint.slice(-16);
    assert.equal(verdictReason(await check(byErin, { pgpKeysFile })), `the commit is signed by an OpenPGP key that is not in the allowed keys (key ID ${erinKeyId})`);
    const signed = await read(pgpSignedCommit(fleet.dir, carol, 'Signed again'));
    const forged = { ...signed, payload: signed.payload.replace('Signed again', 'Signed and changed') };
    assert.match(verdictReason(await verifyCommitSignature(forged, { pgpKeysFile })), /^the commit's signature does not verify \(.+\)$/);
    assert.equal(verdictReason(await verifyCommitSignature(signed, { sshFile })), 'the commit has an OpenPGP signature, and this controller has no --allowed-pgp-keys to check it against');
  });

  it('reads every key of the file, and says what is wrong with a file that holds none', async () => {
    assert.deepEqual((await readAllowedPgpKeys(pgpKeysFile)).map((key) => key.getFingerprint().toUpperCase()), [dave.fingerprint, carol.fingerprint]);
    const empty = path.join(dir, 'empty.asc');
    writeFileSync(empty, 'not a key\n');
    await assert.rejects(readAllowedPgpKeys(empty), { code: 'E_PGP_KEY_FILE', message: `${empty}: holds no armored OpenPGP key (gpg --export --armor KEYID writes one)` });
    const sha = pgpSignedCommit(fleet.dir, carol, 'Signed, keys unusable');
    assert.match(verdictReason(await check(sha, { pgpKeysFile: empty })), /^the allowed OpenPGP keys cannot be used: /);
  });
});

/** A repository opened afresh: one kept open remembers the objects it found missing (a fetch refreshes it). */
function readSigned(repoDir: string, sha: string) {
  return new GitRepository(repoDir).readSignedCommit(sha);
}

function verdictReason(verdict: Awaited<ReturnType<typeof verifyCommitSignature>>): string {
  assert.equal(verdict.ok, false);
  return verdict.ok ? '' : verdict.reason;
}
