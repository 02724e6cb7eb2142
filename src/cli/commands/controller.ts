import { hostname, homedir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { runController } from '../../controller/run-controller.js';
import { CredentialFileError } from '../../authz/credential-files.js';
import { RootLoginError } from '../../authz/etcd-root.js';
import { sshKeygenInstalled } from '../../repo/commit-signature.js';
import { SourceError } from '../../repo/source.js';
import type { Command } from '../command.js';
import { parseDurationMs } from '../duration.js';
import { ETCD_OPTIONS, etcdConnectionFromFlags, readSecret, type EtcdFlagValues } from '../etcd-options.js';
import { EXIT_OK, UsageError } from '../usage-error.js';
import { logCrashesTo } from '../last-resort.js';
import { LOG_LEVEL_OPTION, listenFlag, logLevel, untilStopped, withListenHint } from '../service-options.js';

type Values = EtcdFlagValues & {
  repo?: string;
  branch?: string;
  interval?: string;
  listen?: string;
  'webhook-secret-file'?: string;
  'cache-dir'?: string;
  id?: string;
  'lease-ttl'?: string;
  'log-level'?: string;
  'allowed-signers'?: string;
  'allowed-pgp-keys'?: string;
  'signed-commits'?: string;
  'root-password-file'?: string;
  'credentials-out'?: string;
};

export const controllerCommand: Command<Values> = {
  name: 'controller',
  summary: 'Run the controller: follow a branch, reconcile etcd assignments, roll out, audit (runs until stopped).',
  usage: 'controller --repo URL|PATH [--branch main] [--etcd URL[,URL]] [--interval 30s] [--listen [HOST]:PORT]',
  options: {
    repo: { type: 'string', short: 'r', valueName: 'URL|PATH', description: 'the fleet repository: an http(s) URL to fetch, or a local repository path' },
    branch: { type: 'string', short: 'b', valueName: 'NAME', description: 'branch to follow (default: main)' },
    ...ETCD_OPTIONS,
    interval: { type: 'string', valueName: 'DURATION', description: 'poll the branch this often (default: 30s); webhooks trigger at once' },
    listen: { type: 'string', valueName: '[HOST]:PORT', description: 'serve the console (/), /api/*, /healthz, /readyz, /metrics, /hooks/git and the no-script status page /status (default: 127.0.0.1:7070)' },
    'webhook-secret-file': { type: 'string', valueName: 'FILE', description: 'shared secret of the git webhook (or $YGG_WEBHOOK_SECRET); without one, webhooks are refused' },
    'cache-dir': { type: 'string', valueName: 'DIR', description: 'where a remote repository is mirrored (default: ~/.cache/ygg/controller)' },
    id: { type: 'string', valueName: 'NAME', description: 'this controller in leader election (default: HOSTNAME-PID)' },
    'lease-ttl': { type: 'string', valueName: 'DURATION', description: 'leadership lease (default: 15s); a standby takes over this long after the leader dies' },
    'allowed-signers': { type: 'string', valueName: 'FILE', description: "apply only commits SSH-signed by a key FILE lists (git's gpg.ssh.allowedSignersFile format; keep it outside the repo)" },
    'allowed-pgp-keys': { type: 'string', valueName: 'FILE', description: 'apply only commits OpenPGP-signed by a key FILE holds (armored public keys, gpg --export --armor; keep it outside the repo); with --allowed-signers too, either signature will do' },
    'signed-commits': { type: 'string', valueName: 'always|repo', description: "with a signer file: require signatures on every commit (always, the default) or only while the commit in force sets the repo's spec.requireSignedCommits (repo)" },
    'root-password-file': { type: 'string', valueName: 'FILE', description: "etcd's root password: keep etcd's users and roles following each commit, as ygg etcd-setup does (needs --credentials-out)" },
    'credentials-out': { type: 'string', valueName: 'DIR', description: 'where new hosts\' credential files go (etcd-setup\'s --out), written before their assignments' },
    ...LOG_LEVEL_OPTION,
  },
  details: [
    'Logs are JSON lines (pino). A commit that fails validation, or that would remove more instances than the',
    'repo\'s pruneGuard allows, is rejected whole: the last good commit stays in force. Put [ygg:allow-prune]',
    'in a commit message to let it remove more (it also lets one commit revoke more than 10% of the hosts).',
    'With --root-password-file, a host a commit adds gets its etcd user and credential file before its',
    'assignments are written; a host it removes is revoked once its jobs are gone (or its agent is).',
    'When the commit in force sets spec.requireSignedCommits in ygg.yaml, the next commit (even one turning it',
    'off) is applied only when signed by a key of --allowed-signers or --allowed-pgp-keys; without either flag,',
    'every new commit is rejected. Signers are never read from the repo: a writer could add their own.',
    'SIGINT/SIGTERM stop the controller cleanly.',
  ].join('\n'),
  async run(values, _positionals, io) {
    if (!values.repo) throw new UsageError('--repo is required');
    const { connection, prefix } = etcdConnectionFromFlags(values);
    const level = logLevel(values);
    const listen = listenFlag(values.listen, 'listen', '127.0.0.1:7070');
    const webhookSecret = values['webhook-secret-file'] ? readSecret(values['webhook-secret-file'], 'webhook-secret-file') : process.env.YGG_WEBHOOK_SECRET;
    const intervalMs = parseDurationMs(values.interval ?? '30s', 'interval');
    const signers = await signerFlags(values);
    const access = accessFlags(values);
    const leaseTtlSeconds = Math.max(2, Math.round(parseDurationMs(values['lease-ttl'] ?? '15s', 'lease-ttl') / 1000));
    const logger = pino({ level, base: { component: 'controller' } });
    logCrashesTo(logger);
    if (!webhookSecret) logger.warn({ event: 'webhook_disabled' }, 'no webhook secret: POST /hooks/git answers 401; polling only');
    let running;
    try {
      running = await runController({
        repo: values.repo,
        branch: values.branch ?? 'main',
        cacheDir: values['cache-dir'] ?? path.join(homedir(), '.cache', 'ygg', 'controller'),
        etcd: connection,
        etcdPrefix: prefix,
        intervalMs,
        listen,
        ...(webhookSecret ? { webhookSecret } : {}),
        id: values.id ?? `${hostname()}-${process.pid}`,
        leaseTtlSeconds,
        logger,
        ...signers,
        ...(access && { access }),
      });
    } catch (error) {
      // runController stopped what it had started: the command ends here (exit 2 or 1), at once.
      if (error instanceof SourceError) throw new UsageError(error.message);
      if (error instanceof RootLoginError) throw new UsageError(`--root-password-file: ${error.message}`);
      if (error instanceof CredentialFileError) throw new UsageError(`--credentials-out: ${error.message}`);
      throw withListenHint(error, 'listen');
    }
    io.stderr(`ygg controller: following ${values.branch ?? 'main'} of ${values.repo}${running.url ? `, serving ${running.url}` : ''}`);
    await untilStopped();
    await running.close();
    return EXIT_OK;
  },
};

function accessFlags(values: Values): { rootPassword: string; credentialsDir: string } | undefined {
  const passwordFile = values['root-password-file'];
  const out = values['credentials-out'];
  if (passwordFile === undefined && out === undefined) return undefined;
  if (passwordFile === undefined || out === undefined) throw new UsageError('--root-password-file and --credentials-out go together: the new hosts\' credentials must be written somewhere');
  const rootPassword = readSecret(passwordFile, 'root-password-file');
  if (rootPassword === '') throw new UsageError(`--root-password-file: ${passwordFile} is empty`);
  return { rootPassword, credentialsDir: path.resolve(out) };
}

/** The signer files (checked now: a flag's mistake is said at start, not by every commit's rejection) and the mode. */
async function signerFlags(values: Values): Promise<{ allowedSignersFile?: string; allowedPgpKeysFile?: string; signedCommits?: 'always' | 'repo' }> {
  const ssh = values['allowed-signers'];
  const pgp = values['allowed-pgp-keys'];
  const mode = values['signed-commits'];
  if (mode !== undefined && mode !== 'always' && mode !== 'repo') throw new UsageError(`--signed-commits: "${mode}" is neither always nor repo`);
  if (mode !== undefined && ssh === undefined && pgp === undefined) throw new UsageError('--signed-commits needs --allowed-signers or --allowed-pgp-keys: the signers to check against');
  if (ssh !== undefined) {
    readSecret(ssh, 'allowed-signers');
    // Found at the first commit, it would reject every commit with "spawn ssh-keygen ENOENT".
    if (!(await sshKeygenInstalled())) throw new UsageError('--allowed-signers: ssh-keygen is not installed (it verifies the signatures; install openssh-client)');
  }
  if (pgp !== undefined) {
    const { readAllowedPgpKeys, PgpKeyFileError } = await import('../../repo/openpgp-signature.js');
    await readAllowedPgpKeys(pgp).catch((error: unknown) => {
      throw error instanceof PgpKeyFileError ? new UsageError(`--allowed-pgp-keys: ${error.message}`) : error;
    });
  }
  return {
    ...(ssh !== undefined && { allowedSignersFile: path.resolve(ssh) }),
    ...(pgp !== undefined && { allowedPgpKeysFile: path.resolve(pgp) }),
    ...(mode !== undefined && { signedCommits: mode }),
  };
}
