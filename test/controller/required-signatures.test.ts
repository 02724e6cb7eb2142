// spec.requireSignedCommits in the fleet's ygg.yaml, in a real controller on a real etcd: the policy
// of the commit in force governs the next commit. Once a commit requiring signatures is in force, a
// new commit, even one turning the setting off, is applied only when signed by a signer the
// controller's flags allow; a controller with no signer file rejects every new commit, saying which
// flags are missing.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { FleetView, reconcileNow, startInProcess } from '../fixtures/controller-harness.js';
import { uniquePrefix, useSharedEtcd } from '../fixtures/etcd-server.js';
import { FRONTEND_HOSTS, jobFile } from '../fixtures/fleet-changes.js';
import { createGitFleet } from '../fixtures/git-fleet.js';
import { createPgpKey, pgpSignedCommit, writeAllowedPgpKeys } from '../fixtures/pgp-signing.js';
import { assertApplied, assertRejected } from '../fixtures/rejections.js';
import { removeDir } from '../fixtures/small-fleet.js';

const keysDir = mkdtempSync(path.join(tmpdir(), 'ygg-required-signatures-'));
const carol = createPgpKey(keysDir, 'carol', 'carol@example.com');
after(() => {
  carol.close();
  removeDir(keysDir);
});

/** The small fleet's ygg.yaml with requireSignedCommits set. */
function repoConfig(requireSignedCommits: boolean): Record<string, string> {
  return { 'ygg.yaml': `apiVersion: ygg/v1\nkind: Repo\nspec:\n  pruneGuard: { maxDeletePercent: 50 }\n  requireSignedCommits: ${requireSignedCommits}\n` };
}

describe('spec.requireSignedCommits', () => {
  const etcd = useSharedEtcd();

  async function start(name: string, signers: { allowedPgpKeysFile?: string; signedCommits?: 'repo' }) {
    const fleet = createGitFleet();
    etcd.cleanups.push(async () => removeDir(fleet.dir));
    const prefix = uniquePrefix(name);
    const view = new FleetView(etcd.url, prefix);
    await view.registerAgents(FRONTEND_HOSTS);
    const controller = await startInProcess({ repo: fleet.dir, etcdPrefix: prefix, etcdUrl: etcd.url, ...signers });
    etcd.cleanups.push(() => view.close(), () => controller.close());
    /** Commits `changes` (signed by Carol when `signed`) and reconciles; returns the sha. */
    const push = async (message: string, changes: Record<string, string>, signed = false) => {
      let sha: string;
      if (signed) {
        for (const [file, content] of Object.entries(changes)) writeFileSync(path.join(fleet.dir, file), content);
        sha = pgpSignedCommit(fleet.dir, carol, message);
      } else sha = fleet.commit(message, changes);
      await reconcileNow(controller);
      return sha;
    };
    return { fleet, view, push };
  }

  test('the commit in force governs the next: unsigned commits are rejected while it requires signatures, a signed one turns it off', async () => {
    const keys = writeAllowedPgpKeys(path.join(keysDir, 'allowed.asc'), [carol]);
    const { view, push } = await start('require-signed', { allowedPgpKeysFile: keys, signedCommits: 'repo' });
    // Nothing in force requires signatures yet: the commit turning it on needs none itself.
    const requiring = await push('Require signed commits', repoConfig(true));
    await assertApplied(view, requiring);
    const unsigned = await push('Add a worker, unsigned', jobFile('worker'));
    await assertRejected(view, unsigned, requiring, /^the commit is not signed; .* \(the commit in force, [0-9a-f]{12}, sets spec\.requireSignedCommits\)$/);
    assert.ok(![...(await view.assignments()).values()].some((record) => record.job === 'worker'), 'nothing of it was applied');
    const turningOffUnsigned = await push('Stop requiring signatures, unsigned', repoConfig(false));
    await assertRejected(view, turningOffUnsigned, requiring, /^the commit is not signed/);

    const turningOff = await push('Stop requiring signatures, signed by Carol', repoConfig(false), true);
    await assertApplied(view, turningOff);
    assert.ok([...(await view.assignments()).values()].some((record) => record.job === 'worker'), 'the worker, under the signed commit, is assigned');
    const unsignedAgain = await push('Add a batch job, unsigned', jobFile('batch'));
    await assertApplied(view, unsignedAgain);
  });

  test('a controller without a signer file rejects every new commit after one requiring signatures, naming the flags', async () => {
    const { view, push } = await start('require-no-signers', {});
    const requiring = await push('Require signed commits', repoConfig(true));
    await assertApplied(view, requiring);
    const reason = /^signed commits are required \(the commit in force, [0-9a-f]{12}, sets spec\.requireSignedCommits\), but this controller has no --allowed-signers or --allowed-pgp-keys to check signatures against: restart it with one of them$/;
    await assertRejected(view, await push('Add a worker, signed by Carol', jobFile('worker'), true), requiring, reason);
    await assertRejected(view, await push('Stop requiring signatures', repoConfig(false)), requiring, reason);
  });
});
