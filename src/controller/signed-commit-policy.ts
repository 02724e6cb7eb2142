// Which commits must be signed, and by whom (issue 12). Signatures are required always when the
// controller was given signers (--allowed-signers, --allowed-pgp-keys), unless it was told to follow
// the repo (--signed-commits repo); and whenever the commit in force sets spec.requireSignedCommits.
// The policy in force governs the next commit, so a commit cannot turn it off for itself. The signers
// always come from the controller's flags: keys listed in the repo would let any writer add their own.
import type { AllowedSigners, SignedCommit } from '../repo/commit-signature.js';
import { verifyCommitSignature } from '../repo/commit-signature.js';

/** FleetController's refuseCommit: why commit `sha` must not be applied, or undefined when it may. */
export type RefuseCommit = (sha: string, requiredBy: string | undefined) => Promise<string | undefined>;

/** `always`: every commit must be signed; `repo`: only while the commit in force sets spec.requireSignedCommits. */
export type SignedCommitsMode = 'always' | 'repo';

export function signedCommitPolicy(signers: AllowedSigners, mode: SignedCommitsMode, readSignedCommit: (sha: string) => Promise<SignedCommit>): RefuseCommit {
  const known = signers.sshFile !== undefined || signers.pgpKeysFile !== undefined;
  const always = known && mode === 'always';
  return async (sha, requiredBy) => {
    if (!always && requiredBy === undefined) return undefined;
    const byRepo = requiredBy === undefined ? '' : ` (the commit in force, ${requiredBy.slice(0, 12)}, sets spec.requireSignedCommits)`;
    if (!known) return `signed commits are required${byRepo}, but this controller has no --allowed-signers or --allowed-pgp-keys to check signatures against: restart it with one of them`;
    const verdict = await verifyCommitSignature(await readSignedCommit(sha), signers);
    return verdict.ok ? undefined : `${verdict.reason}${byRepo}`;
  };
}
