// The signed-commit policy in the controller, on a real etcd and a real git repository. With
// --allowed-signers, only commits SSH-signed by a listed key are applied. Any other commit is rejected
// whole, with the reason in sync/current and in the audit, and the last signed commit stays in force.
// The head's signature is what counts: an allowed signer signing on top vouches for the whole tree.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { FleetView, reconcileNow, startInProcess } from '../fixtures/controller-harness.js';
import { uniquePrefix, useSharedEtcd } from '../fixtures/etcd-server.js';
import { FRONTEND_HOSTS, jobFile } from '../fixtures/fleet-changes.js';
import { createGitFleet } from '../fixtures/git-fleet.js';
import { removeDir } from '../fixtures/small-fleet.js';
import { createSigningKey, signedCommit, writeAllowedSigners } from '../fixtures/ssh-signing.js';

const keysDir = mkdtempSync(path.join(tmpdir(), 'ygg-signed-commits-'));
after(() => removeDir(keysDir));

describe('controller --allowed-signers', () => {
  const etcd = useSharedEtcd();

  test('applies signed commits only: unsigned and unknown-signer commits are rejected with the reason, audited, and change nothing', async () => {
    const alice = createSigningKey(keysDir, 'alice', 'alice@example.com');
    const mallory = createSigningKey(keysDir, 'mallory', 'mallory@example.com');
    const allowedSigners = writeAllowedSigners(path.join(keysDir, 'allowed_signers'), [alice]);
    const fleet = createGitFleet();
    etcd.cleanups.push(async () => removeDir(fleet.dir));
    const signed = signedCommit(fleet.dir, alice, 'Signed by Alice');
    const prefix = uniquePrefix('signed-commits');
    const view = new FleetView(etcd.url, prefix);
    await view.registerAgents(FRONTEND_HOSTS);
    const controller = await startInProcess({ repo: fleet.dir, etcdPrefix: prefix, etcdUrl: etcd.url, allowedSignersFile: allowedSigners });
    etcd.cleanups.push(() => view.close(), () => controller.close());
    await reconcileNow(controller);
    assert.equal((await view.current())?.commit.sha, signed);
    const assignmentsBefore = await view.assignments();

    const cases: [() => string, RegExp][] = [
      [() => fleet.commit('Add a worker, unsigned', jobFile('worker')), /^the commit is not signed/],
      [() => signedCommit(fleet.dir, mallory, 'Add a worker, signed by Mallory'), /^the commit is signed by a key that is not in the allowed signers$/],
    ];
    for (const [commit, reason] of cases) {
      const sha = commit();
      await reconcileNow(controller);
      const current = await view.current();
      assert.equal(current?.commit.sha, signed, 'the signed commit stays in force');
      assert.equal(current?.rejected?.commit.sha, sha);
      assert.match(current!.rejected!.errors.join('\n'), reason);
      const audit = (await view.history()).find((record) => record.commit.sha === sha);
      assert.equal(audit?.outcome, 'Rejected');
      assert.equal(audit!.note, `rejected: ${current!.rejected!.errors[0]}`);
      assert.deepEqual([...(await view.assignments()).keys()], [...assignmentsBefore.keys()], 'nothing of it was applied');
    }

    const signedAgain = signedCommit(fleet.dir, alice, 'Alice signs the worker');
    await reconcileNow(controller);
    const current = await view.current();
    assert.equal(current?.commit.sha, signedAgain);
    assert.equal(current?.rejected, undefined);
    assert.ok([...(await view.assignments()).values()].some((record) => record.job === 'worker'), 'the worker, now signed, is assigned');
  });
});
