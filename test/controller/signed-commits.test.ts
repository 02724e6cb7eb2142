// The signed-commit policy in the controller, on a real etcd and a real git repository. With
// --allowed-signers, only commits SSH-signed by a listed key are applied. Any other commit is rejected
// whole, with the reason in sync/current and in the audit, and the last signed commit stays in force.
// The head's signature is what counts: an allowed signer signing on top vouches for the whole tree.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { FleetView, reconcileNow, startInProcess } from '../fixtures/controller-harness.js';
import { uniquePrefix, useSharedEtcd } from '../fixtures/etcd-server.js';
import { FRONTEND_HOSTS, jobFile } from '../fixtures/fleet-changes.js';
import { createGitFleet } from '../fixtures/git-fleet.js';
import { removeDir } from '../fixtures/small-fleet.js';
import { createSigningKey, signedCommit, writeAllowedSigners } from '../fixtures/ssh-signing.js';
import { createPgpKey, pgpSignedCommit, writeAllowedPgpKeys } from '../fixtures/pgp-signing.js';
import { assertApplied, assertRejected } from '../fixtures/rejections.js';
import { runCli } from '../cli/run-cli.js';

const keysDir = mkdtempSync(path.join(tmpdir(), 'ygg-signed-commits-'));
after(() => removeDir(keysDir));

describe('controller --allowed-signers, --allowed-pgp-keys', () => {
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
      await assertRejected(view, sha, signed, reason);
      assert.deepEqual([...(await view.assignments()).keys()], [...assignmentsBefore.keys()], 'nothing of it was applied');
    }

    const signedAgain = signedCommit(fleet.dir, alice, 'Alice signs the worker');
    await reconcileNow(controller);
    await assertApplied(view, signedAgain);
    assert.ok([...(await view.assignments()).values()].some((record) => record.job === 'worker'), 'the worker, now signed, is assigned');
  });

  test('--allowed-pgp-keys: a commit gpg-signed by a listed key is applied; another key, a tampered commit and an SSH signature are rejected', async () => {
    const carol = createPgpKey(keysDir, 'carol', 'carol@example.com');
    const erin = createPgpKey(keysDir, 'erin', 'erin@example.com');
    etcd.cleanups.push(async () => [carol, erin].forEach((key) => key.close()));
    const allowedPgpKeys = writeAllowedPgpKeys(path.join(keysDir, 'allowed.asc'), [carol]);
    const fleet = createGitFleet();
    etcd.cleanups.push(async () => removeDir(fleet.dir));
    const signed = pgpSignedCommit(fleet.dir, carol, 'Signed by Carol');
    const prefix = uniquePrefix('pgp-commits');
    const view = new FleetView(etcd.url, prefix);
    await view.registerAgents(FRONTEND_HOSTS);
    const controller = await startInProcess({ repo: fleet.dir, etcdPrefix: prefix, etcdUrl: etcd.url, allowedPgpKeysFile: allowedPgpKeys });
    etcd.cleanups.push(() => view.close(), () => controller.close());
    await reconcileNow(controller);
    await assertApplied(view, signed);

    const ssh = createSigningKey(keysDir, 'frank', 'frank@example.com');
    const cases: [() => string, RegExp][] = [
      [() => pgpSignedCommit(fleet.dir, erin, 'Signed by Erin'), new RegExp(`^the commit is signed by an OpenPGP key that is not in the allowed keys \\(key ID ${erin.fingerprint.slice(-16)}\\)$`)],
      [() => tamperedCommit(fleet.dir, pgpSignedCommit(fleet.dir, carol, 'Carol signs this message')), /^the commit's signature does not verify \(.+\)$/],
      [() => signedCommit(fleet.dir, ssh, 'SSH-signed'), /^the commit has an SSH signature, and this controller has no --allowed-signers to check it against$/],
    ];
    for (const [commit, reason] of cases) {
      const sha = commit();
      await reconcileNow(controller);
      await assertRejected(view, sha, signed, reason);
    }
    writeFileSync(path.join(fleet.dir, 'jobs/worker.yaml'), jobFile('worker')['jobs/worker.yaml']!);
    const signedAgain = pgpSignedCommit(fleet.dir, carol, 'Carol signs the worker');
    await reconcileNow(controller);
    await assertApplied(view, signedAgain);
    assert.ok([...(await view.assignments()).values()].some((record) => record.job === 'worker'), 'the worker, now signed, is assigned');
  });
});

test('ygg controller says a signer flag\'s mistake at start (exit 2), before connecting to anything', async () => {
  const notKeys = path.join(keysDir, 'not-keys.asc');
  writeFileSync(notKeys, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample\n');
  const cases: [string[], string][] = [
    [['--allowed-pgp-keys', notKeys], `ygg controller: --allowed-pgp-keys: ${notKeys}: holds no armored OpenPGP key (gpg --export --armor KEYID writes one)`],
    [['--allowed-pgp-keys', path.join(keysDir, 'missing.asc')], `ygg controller: --allowed-pgp-keys: ${path.join(keysDir, 'missing.asc')}: cannot read it (ENOENT)`],
    [['--signed-commits', 'repo'], 'ygg controller: --signed-commits needs --allowed-signers or --allowed-pgp-keys: the signers to check against'],
    [['--signed-commits', 'sometimes', '--allowed-pgp-keys', notKeys], 'ygg controller: --signed-commits: "sometimes" is neither always nor repo'],
  ];
  for (const [flags, message] of cases) {
    const result = await runCli('controller', '--repo', keysDir, ...flags, '--etcd', 'http://127.0.0.1:1');
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr.split('\n')[0], message);
  }
});

/** A commit object like `sha` but for its message, its signature kept, made the branch head: what a forger would push. */
function tamperedCommit(repoDir: string, sha: string): string {
  const git = (args: string[], input?: string) => execFileSync('git', args, { cwd: repoDir, encoding: 'utf8', input }).trim();
  const raw = git(['cat-file', 'commit', sha]);
  const forged = git(['hash-object', '-t', 'commit', '-w', '--stdin'], `${raw.replace('Carol signs this message', 'Carol signs that message')}\n`);
  git(['update-ref', 'refs/heads/main', forged]);
  return forged;
}
