import path from 'node:path';
import { planAccess } from '../../authz/access-plan.js';
import { applyAccess, MAX_REVOKED_PERCENT } from '../../authz/apply-access.js';
import { CredentialDirectory } from '../../authz/credential-files.js';
import { connectAsRoot } from '../../authz/etcd-root.js';
import { grantedPrefix } from '../../authz/granted-prefix.js';
import { keyLayout } from '../../store/keys.js';
import { choice, type Command } from '../command.js';
import { ETCD_OPTIONS, etcdConnectionFromFlags, readSecret, type EtcdFlagValues } from '../etcd-options.js';
import { OUTPUT_OPTION, REF_OPTION, REPO_OPTION, repoPath } from '../repo-options.js';
import { requireModel } from '../require-model.js';
import { EXIT_OK, UsageError } from '../usage-error.js';

type Values = Pick<EtcdFlagValues, 'etcd' | 'etcd-prefix' | 'etcd-ca' | 'etcd-cert' | 'etcd-key'> & {
  repo?: string;
  'allow-mass-revocation'?: boolean;
  'allow-prefix-change'?: boolean;
  ref?: string;
  'root-password-file'?: string;
  out?: string;
  output?: string;
};

const { etcd, 'etcd-prefix': etcdPrefix, 'etcd-ca': etcdCa, 'etcd-cert': etcdCert, 'etcd-key': etcdKey } = ETCD_OPTIONS;

export const etcdSetupCommand: Command<Values> = {
  name: 'etcd-setup',
  summary: "Turn on etcd's authentication and keep its users and roles least-privilege: one per host, the controller's, a read-only one.",
  usage: 'etcd-setup (--root-password-file FILE | --etcd-cert FILE --etcd-key FILE) --out DIR [--repo PATH] [--ref REF] [--etcd URL[,URL]] [--output text|json]',
  options: {
    ...REPO_OPTION,
    ...REF_OPTION,
    etcd,
    'etcd-prefix': { ...etcdPrefix, description: "key prefix (default: the repo's etcdPrefix)" },
    'etcd-ca': etcdCa,
    'etcd-cert': etcdCert,
    'etcd-key': etcdKey,
    'root-password-file': { type: 'string', valueName: 'FILE', description: "etcd's root password; root is created with it when auth is off (or log in as root with a client certificate)" },
    out: { type: 'string', valueName: 'DIR', description: 'credential files, mode 0600: one per host named after it, _controller, _readonly, _renderer' },
    'allow-mass-revocation': { type: 'boolean', description: `revoke more than ${MAX_REVOKED_PERCENT}% of the hosts at once (refused otherwise: a wrong --repo or --ref would take them out of naming)` },
    'allow-prefix-change': { type: 'boolean', description: 'move the grants to another --etcd-prefix than the one granted before (refused otherwise: a typo would cut every process off)' },
    ...OUTPUT_OPTION,
  },
  details: [
    "Roles: ygg-controller reads and writes the prefix; ygg-readonly reads it (ygg status, resolve);",
    'ygg-host-<host> writes only agents/<host>, status/<host>/ and its own naming entries (naming/<service>/<host>:',
    "for each service whose job may run on the host) and reads its assign/<host>/, hosts/ and sync/current;",
    "ygg-director reads only what a render is made from (vips/, naming/, hosts/, agents/, lost/, zones/,",
    "sync/current; no assign/): a director's user has it, and so does ygg-renderer (_renderer, for `ygg render`).",
    'Idempotent: a re-run creates and revokes only the difference. A revoked host is refused at once; its',
    "agent's lease is revoked, so its heartbeat and endpoints go with it. Run it again on every commit that",
    'adds or removes hosts, services or tree-node bindings; remove a host only once its jobs are gone (a',
    'revoked agent cannot read its assignments any more). An existing file in --out is kept (its user',
    'keeps its password) when it still logs in; one that does not, or a deleted one, gets a new password.',
    "With etcd's --client-cert-auth, a client certificate whose common name is a user's name logs in as",
    'that user (root for etcd-setup, ygg-host-<host> for an agent: --etcd-cert/--etcd-key).',
  ].join('\n'),
  async run(values, _positionals, io) {
    const output = choice(values.output, 'output', ['text', 'json'], 'text');
    const passwordFile = values['root-password-file'];
    if (passwordFile === undefined && values['etcd-cert'] === undefined) throw new UsageError("--root-password-file is required (or --etcd-cert/--etcd-key: a client certificate for root, with etcd's --client-cert-auth)");
    if (!values.out) throw new UsageError('--out is required: the directory the credential files go to');
    const rootPassword = passwordFile === undefined ? undefined : readSecret(passwordFile, 'root-password-file');
    if (rootPassword === '') throw new UsageError(`--root-password-file: ${passwordFile} is empty`);
    const { model, index } = await requireModel(repoPath(values), values.ref, io);
    const { connection, prefix } = etcdConnectionFromFlags({ ...values, 'etcd-prefix': values['etcd-prefix'] ?? model.config.etcdPrefix });
    const credentials = new CredentialDirectory(path.resolve(values.out));
    // Said before etcd is touched: found while writing the first file, auth would be on already and
    // users made whose passwords were never saved.
    await credentials.prepare().catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`--out: cannot write credential files in ${credentials.dir} (${error.code ?? error.message})`);
    });
    const started = performance.now();
    const { client, enabledAuth } = await connectAsRoot(connection, rootPassword);
    try {
      const layout = keyLayout(prefix);
      const granted = await grantedPrefix(client);
      if (granted !== undefined && granted !== layout.prefix && values['allow-prefix-change'] !== true) {
        throw new UsageError(`--etcd-prefix: the grants are for ${granted}, not ${layout.prefix}; nothing changed (a wrong prefix would cut every process off). Check --etcd-prefix and the repo's etcdPrefix, or pass --allow-prefix-change to move them`);
      }
      // Said, not refused: before the controller's first commit a fleet's prefix is empty too.
      if ((await client.get(layout.syncCurrent).string()) === null) io.stderr(`Note: no fleet under ${layout.prefix} yet (no sync/current); if one runs, check --etcd-prefix.`);
      const changes = await applyAccess({ client, plan: planAccess(model, index, prefix), layout, credentials, allowMassRevocation: values['allow-mass-revocation'] === true, verifyPasswords: true });
      const seconds = (performance.now() - started) / 1000;
      if (output === 'json') {
        io.stdout(JSON.stringify({ enabledAuth, ...changes, seconds }, null, 2));
        return EXIT_OK;
      }
      if (enabledAuth) io.stdout('Authentication turned on (root created).');
      io.stdout(`Users: ${changes.usersCreated.length} created, ${changes.usersDeleted.length} revoked, ${changes.passwordsSet.length} given a new password.`);
      io.stdout(`Roles: ${changes.rolesCreated.length} created, ${changes.rolesDeleted.length} deleted; permissions: ${changes.grantsAdded} granted, ${changes.grantsRevoked} revoked.`);
      if (changes.leasesRevoked + changes.namingDeleted > 0) io.stdout(`Cleaned up: ${changes.leasesRevoked} lease(s) of revoked hosts, ${changes.namingDeleted} naming entr(ies) no longer allowed.`);
      for (const name of changes.usersDeleted) io.stdout(`  revoked ${name}`);
      io.stdout(`Credential files in ${path.resolve(values.out)} (${seconds.toFixed(1)} s).`);
      return EXIT_OK;
    } finally {
      client.close();
    }
  },
};
