// Signed commits (issue 12): with `ygg controller --allowed-signers FILE` and/or `--allowed-pgp-keys
// FILE`, a commit is applied only when it carries a signature by a key those files list: SSH or
// OpenPGP, whichever the commit has. The files live outside the repo, so a commit cannot add its own
// signer. SSH uses OpenSSH's allowed-signers format, as git's gpg.ssh.allowedSignersFile does, and
// `ssh-keygen -Y`, the verifier git itself runs for SSH signatures; OpenPGP is openpgp-signature.ts.
// Both check the signed payload: the raw commit without its signature header.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface SignedCommit {
  /** What the signature covers: the raw commit object without its gpgsig header. */
  readonly payload: string;
  /** The armored signature, when the commit has one. */
  readonly signature?: string;
}

/** The controller's signers, from its flags (never from the repo). */
export interface AllowedSigners {
  /** OpenSSH allowed-signers file (--allowed-signers). */
  readonly sshFile?: string;
  /** Armored OpenPGP public keys (--allowed-pgp-keys). */
  readonly pgpKeysFile?: string;
}

export type SignatureVerdict = { readonly ok: true; readonly signer: string } | { readonly ok: false; readonly reason: string };

/** git's namespace for commit signatures (`ssh-keygen -Y sign -n git`). */
const NAMESPACE = 'git';
const SIGNATURE_HEADERS = ['gpgsig', 'gpgsig-sha256'];

/** Splits a raw commit object into the payload and its signature, as git does before verifying. */
export function splitSignature(raw: string): SignedCommit {
  const headerEnd = raw.indexOf('\n\n');
  const headers = (headerEnd < 0 ? raw : raw.slice(0, headerEnd)).split('\n');
  const kept: string[] = [];
  const signature: string[] = [];
  let inSignature = false;
  for (const line of headers) {
    if (inSignature && line.startsWith(' ')) {
      signature.push(line.slice(1));
      continue;
    }
    const name = line.slice(0, line.indexOf(' '));
    inSignature = SIGNATURE_HEADERS.includes(name) && signature.length === 0;
    if (inSignature) signature.push(line.slice(name.length + 1));
    else kept.push(line);
  }
  const payload = kept.join('\n') + (headerEnd < 0 ? '' : raw.slice(headerEnd));
  return signature.length > 0 ? { payload, signature: `${signature.join('\n')}\n` } : { payload };
}

export async function verifyCommitSignature(commit: SignedCommit, signers: AllowedSigners): Promise<SignatureVerdict> {
  const { signature } = commit;
  if (signature === undefined) return { ok: false, reason: 'the commit is not signed; this controller applies only commits signed by an allowed signer' };
  if (signature.startsWith('-----BEGIN SSH SIGNATURE-----')) {
    if (signers.sshFile === undefined) return { ok: false, reason: 'the commit has an SSH signature, and this controller has no --allowed-signers to check it against' };
    return verifySshSignature(commit.payload, signature, signers.sshFile);
  }
  if (signature.startsWith('-----BEGIN PGP SIGNATURE-----')) {
    if (signers.pgpKeysFile === undefined) return { ok: false, reason: 'the commit has an OpenPGP signature, and this controller has no --allowed-pgp-keys to check it against' };
    const { verifyOpenPgpSignature } = await import('./openpgp-signature.js');
    return verifyOpenPgpSignature(commit.payload, signature, signers.pgpKeysFile);
  }
  return { ok: false, reason: 'the commit has a signature of a kind this controller does not verify (only SSH and OpenPGP)' };
}

async function verifySshSignature(payload: string, signature: string, allowedSignersFile: string): Promise<SignatureVerdict> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ygg-signature-'));
  try {
    const signatureFile = path.join(dir, 'commit.sig');
    await writeFile(signatureFile, signature);
    const found = await sshKeygen(['-Y', 'find-principals', '-f', allowedSignersFile, '-s', signatureFile, '-n', NAMESPACE]);
    const signer = found.code === 0 ? found.stdout.split('\n')[0]?.trim() : undefined;
    if (!signer) return { ok: false, reason: 'the commit is signed by a key that is not in the allowed signers' };
    const verified = await sshKeygen(['-Y', 'verify', '-f', allowedSignersFile, '-I', signer, '-n', NAMESPACE, '-s', signatureFile], payload);
    if (verified.code !== 0) return { ok: false, reason: `the commit's signature does not verify (${verified.stderr.trim() || `ssh-keygen exited with ${verified.code}`})` };
    return { ok: true, signer };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function sshKeygen(args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile('ssh-keygen', args, { timeout: 10_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : undefined;
      if (code === undefined) reject(error!);
      else resolve({ code, stdout, stderr });
    });
    // find-principals reads no input and may exit before it is written: the exit code says the outcome, an EPIPE nothing.
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(input ?? '');
  });
}

/** Whether ssh-keygen can be run at all: a missing one is said at start-up, not by every commit's rejection. */
export async function sshKeygenInstalled(): Promise<boolean> {
  try {
    await sshKeygen(['-?']);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
