// OpenPGP commit signatures (issue 12): with `ygg controller --allowed-pgp-keys FILE`, a commit git
// signed with gpg (`git commit -S`) is applied when the signing key is one FILE holds, as armored
// public keys. Verification is openpgp.js's (a maintained OpenPGP implementation, no system gpg, no
// keyring to import into): it reads the armored keys as they are, which gpgv cannot. The file is read
// at each check, as ssh-keygen reads --allowed-signers: a key added or removed counts at the next commit.
// This module is loaded only when an OpenPGP signature is checked: openpgp.js takes ~65 ms to import.
import { readFile } from 'node:fs/promises';
import { createMessage, readKeys, readSignature, verify, type PublicKey } from 'openpgp';
import type { SignatureVerdict } from './commit-signature.js';

/** A file of allowed keys that cannot be used: said at start-up by the CLI, and as the reason of a rejection. */
export class PgpKeyFileError extends Error {
  readonly code = 'E_PGP_KEY_FILE';
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'PgpKeyFileError';
  }
}

const BLOCK = /-----BEGIN PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----[\s\S]*?-----END PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----/g;

/** The public keys of every armored block in `file` (gpg --export --armor writes one block per call, so files concatenate them). */
export async function readAllowedPgpKeys(file: string): Promise<PublicKey[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new PgpKeyFileError(file, `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const blocks = text.match(BLOCK) ?? [];
  if (blocks.length === 0) throw new PgpKeyFileError(file, 'holds no armored OpenPGP key (gpg --export --armor KEYID writes one)');
  const keys: PublicKey[] = [];
  for (const [index, block] of blocks.entries()) {
    try {
      // A private key given by mistake still names its public half; only that is kept.
      for (const key of await readKeys({ armoredKeys: block })) keys.push(key.toPublic());
    } catch (error) {
      throw new PgpKeyFileError(file, `key block ${index + 1} is not a readable OpenPGP key (${(error as Error).message})`);
    }
  }
  return keys;
}

/** Whether `signature` (armored, detached, as git stores it) is by a key of `keysFile` over exactly `payload`. */
export async function verifyOpenPgpSignature(payload: string, signature: string, keysFile: string): Promise<SignatureVerdict> {
  let keys: PublicKey[];
  try {
    keys = await readAllowedPgpKeys(keysFile);
  } catch (error) {
    if (error instanceof PgpKeyFileError) return { ok: false, reason: `the allowed OpenPGP keys cannot be used: ${error.message}` };
    throw error;
  }
  let parsed;
  try {
    parsed = await readSignature({ armoredSignature: signature });
  } catch (error) {
    return { ok: false, reason: `the commit's OpenPGP signature cannot be read (${(error as Error).message})` };
  }
  // git signs the payload's bytes as they are (a binary signature): no newline normalisation.
  const message = await createMessage({ binary: new TextEncoder().encode(payload) });
  const { signatures } = await verify({ message, signature: parsed, verificationKeys: keys, format: 'binary' });
  const issuers = signatures.map((result) => result.keyID.toHex().toUpperCase());
  for (const result of signatures) {
    const signer = keys.find((key) => key.getKeys(result.keyID).length > 0);
    if (!signer) continue;
    try {
      await result.verified;
    } catch (error) {
      return { ok: false, reason: `the commit's signature does not verify (${(error as Error).message})` };
    }
    const [userId] = signer.getUserIDs();
    return { ok: true, signer: `${userId ?? 'no user ID'} (${signer.getFingerprint().toUpperCase()})` };
  }
  return { ok: false, reason: `the commit is signed by an OpenPGP key that is not in the allowed keys (key ID ${issuers.join(', ') || 'unknown'})` };
}
