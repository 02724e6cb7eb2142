// Which commits must be signed, and by whom (issue 12). Signatures are required when the controller
// was given signers (--allowed-signers, --allowed-pgp-keys: that forces the policy whatever the repo
// says) or when the commit in force sets spec.requireSignedCommits. The signers always come from the
// controller's flags: keys listed in the repo would let any writer add their own.
import type { AllowedSigners, SignedCommit } from '../repo/commit-signature.js';
import { verifyCommitSignature } from '../repo/commit-signature.js';

/** FleetController's refuseCommit: why commit `sha` must not be applied, or undefined when it may. */
export type RefuseCommit = (sha: string, requiredBy: string | undefined) => Promise<string | undefined>;

export function signedCommitPolicy(signers: AllowedSigners, readSignedCommit: (sha: string) => Promise<SignedCommit>): RefuseCommit {
  const forced = signers.sshFile !== undefined || signers.pgpKeysFile !== undefined;
  return async (sha, requiredBy) => {
    if (!forced && requiredBy === undefined) return undefined;
    const byRepo = requiredBy === undefined ? '' : ` (the commit in force, ${requiredBy.slice(0, 12)}, sets spec.requireSignedCommits)`;
    if (!forced) return `signed commits are required${byRepo}, but this controller has no --allowed-signers or --allowed-pgp-keys to check signatures against: restart it with one of them`;
    const verdict = await verifyCommitSignature(await readSignedCommit(sha), signers);
    return verdict.ok ? undefined : `${verdict.reason}${byRepo}`;
  };
}
