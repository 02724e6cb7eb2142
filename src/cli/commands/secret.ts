// ygg secret set|list|rm: values that never touch git. A value comes from a file or stdin, never
// from argv (argv is in shell history and in `ps` for every user). Nothing here prints a value.
import { readFileSync } from 'node:fs';
import { SECRET_NAME } from '../../model/secret-references.js';
import { isAssignmentEntry } from '../../store/record-checks.js';
import { isRemoval } from '../../store/records.js';
import { readSecretVersions, removeSecret, secretKeys, setSecret } from '../../store/secret-store.js';
import { withEtcd, type EtcdView } from '../cluster.js';
import { choice, type Command } from '../command.js';
import { ETCD_OPTIONS, type EtcdFlagValues } from '../etcd-options.js';
import { formatTable } from '../format-table.js';
import { OUTPUT_OPTION } from '../repo-options.js';
import { CommandFailedError, EXIT_FINDINGS, EXIT_OK, UsageError } from '../usage-error.js';

type SecretFlags = EtcdFlagValues & { 'from-file'?: string; force?: boolean; output?: string };

export const secretCommand: Command<SecretFlags> = {
  name: 'secret',
  summary: 'Set, list or remove secrets that templates take with {{secret "NAME"}} (values never in git).',
  usage: 'secret set NAME --from-file FILE|- | secret list [--output text|json] | secret rm NAME [--force]  [--etcd URL[,URL]] [--etcd-credentials FILE]',
  positionals: ['ACTION', 'NAME'],
  extraArgumentHint: 'a value is never taken from the command line (shell history, ps); use --from-file FILE or - for stdin',
  options: {
    ...ETCD_OPTIONS,
    'from-file': { type: 'string', valueName: 'FILE', description: 'set: read the value from FILE, or from stdin with "-" (never from the command line)' },
    force: { type: 'boolean', description: 'rm: remove even while assigned jobs use it (they keep running; new releases of them cannot be prepared)' },
    ...OUTPUT_OPTION,
  },
  details: [
    'Values live in etcd under <etcd-prefix>-secrets/, outside the fleet prefix, readable only by the',
    'hosts whose jobs reference them (ygg etcd-setup grants that). Use the controller or root credential.',
    'Setting a secret again gives it the next version: the controller rolls exactly the jobs that use it.',
    'Exit code: 0 done, 1 refused (the line says why), 2 bad usage.',
  ].join('\n'),
  async run(values, positionals, io) {
    const [action, name] = positionals;
    if (action === 'list') {
      if (name !== undefined) throw new UsageError('secret list takes no NAME');
      return list(values, io);
    }
    if (action !== 'set' && action !== 'rm') throw new UsageError(`expected set, list or rm, not ${action === undefined ? 'nothing' : JSON.stringify(action)}`);
    if (name === undefined) throw new UsageError(`secret ${action} needs a NAME`);
    if (!SECRET_NAME.test(name)) throw new UsageError(`secret name ${JSON.stringify(name)} is invalid: 1 to 63 of a-z, 0-9, ".", "_", "-", starting with a letter or digit`);
    if (action === 'set') {
      const file = values['from-file'];
      if (file === undefined) throw new UsageError('secret set needs --from-file FILE (or "-" for stdin): a value on the command line would be in shell history and ps');
      const value = readValue(file);
      if (value.length === 0) throw new CommandFailedError(`secret ${name}: ${file === '-' ? 'stdin' : file} is empty, nothing set`);
      const stored = await withEtcd(values, ({ client, layout }) => setSecret(client, secretKeys(layout.prefix), name, value, new Date()));
      io.stdout(`secret ${name}: version ${stored.version}`);
      return EXIT_OK;
    }
    if (values['from-file'] !== undefined) throw new UsageError('--from-file is for secret set');
    return remove(values, name, io);
  },
};

function readValue(file: string): Buffer {
  try {
    // fd 0 rather than /dev/stdin: it works for pipes and redirections alike
    return readFileSync(file === '-' ? 0 : file);
  } catch (error) {
    throw new UsageError(`--from-file: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Secret name → the host/job instances whose assignment (the spec in force) references it. */
async function usersOfSecrets({ store, layout }: EtcdView): Promise<Map<string, string[]>> {
  const read = await store.getPrefixJson(layout.assignments(), isAssignmentEntry);
  const users = new Map<string, Set<string>>();
  for (const { value } of read.entries.values()) {
    if (isRemoval(value)) continue;
    for (const secret of Object.keys(value.spec.secretVersions ?? {})) {
      const jobs = users.get(secret) ?? new Set<string>();
      jobs.add(value.job);
      users.set(secret, jobs);
    }
  }
  return new Map([...users].map(([secret, jobs]) => [secret, [...jobs].sort()]));
}

async function list(values: SecretFlags, io: { stdout: (text: string) => void }): Promise<number> {
  const output = choice(values.output, 'output', ['text', 'json'], 'text');
  const rows = await withEtcd(values, async (etcd) => {
    const [{ versions }, users] = await Promise.all([readSecretVersions(etcd.client, secretKeys(etcd.layout.prefix)), usersOfSecrets(etcd)]);
    // A secret some assignment references but the store lacks is listed too: that is the one to set.
    const names = [...new Set([...versions.keys(), ...users.keys()])].sort();
    return names.map((name) => ({ name, version: versions.get(name)?.version ?? null, updatedAt: versions.get(name)?.updatedAt ?? null, jobs: users.get(name) ?? [] }));
  });
  if (output === 'json') io.stdout(JSON.stringify({ secrets: rows }, null, 2));
  else io.stdout(formatTable(['NAME', 'VERSION', 'UPDATED', 'JOBS'], rows.map((row) => [row.name, row.version === null ? 'missing' : String(row.version), row.updatedAt ?? '-', row.jobs.join(',') || '-'])));
  return EXIT_OK;
}

async function remove(values: SecretFlags, name: string, io: { stdout: (text: string) => void; stderr: (text: string) => void }): Promise<number> {
  return withEtcd(values, async (etcd) => {
    const jobs = (await usersOfSecrets(etcd)).get(name) ?? [];
    if (jobs.length > 0 && !values.force) {
      io.stderr(`secret ${name} is used by ${jobs.join(', ')}: remove the references from the repo first, or pass --force`);
      return EXIT_FINDINGS;
    }
    if (!(await removeSecret(etcd.client, secretKeys(etcd.layout.prefix), name))) {
      io.stderr(`secret ${name} does not exist`);
      return EXIT_FINDINGS;
    }
    io.stdout(`secret ${name} removed`);
    return EXIT_OK;
  });
}
