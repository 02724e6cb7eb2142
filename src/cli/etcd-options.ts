// The etcd flags every command that talks to a cluster shares.
import { accessSync, constants, readFileSync } from 'node:fs';
import { CredentialFileError, parseCredential } from '../authz/credential-files.js';
import { parseEtcdEndpoints, type EtcdConnectionOptions } from '../store/etcd-connection.js';
import { DEFAULT_ETCD_PREFIX } from '../store/keys.js';
import { StoreError } from '../store/store-errors.js';
import { UsageError } from './usage-error.js';

export const ETCD_OPTIONS = {
  etcd: { type: 'string', valueName: 'URL[,URL]', description: 'etcd endpoints (default: http://127.0.0.1:2379)' },
  'etcd-prefix': { type: 'string', valueName: 'PREFIX', description: `key prefix, the repo's etcdPrefix (default: ${DEFAULT_ETCD_PREFIX})` },
  'etcd-ca': { type: 'string', valueName: 'FILE', description: 'CA certificate to verify etcd (https endpoints)' },
  'etcd-cert': { type: 'string', valueName: 'FILE', description: 'client certificate for etcd' },
  'etcd-key': { type: 'string', valueName: 'FILE', description: 'client key for etcd' },
  'etcd-user': { type: 'string', valueName: 'NAME', description: 'etcd user; the password comes from --etcd-password-file or $YGG_ETCD_PASSWORD' },
  'etcd-password-file': { type: 'string', valueName: 'FILE', description: 'file holding the etcd password' },
  'etcd-credentials': { type: 'string', valueName: 'FILE', description: 'file holding "user:password" (as ygg etcd-setup writes them), instead of --etcd-user' },
} as const;

const CREDENTIALS_HINT = 'give the user with --etcd-user and the password with --etcd-password-file or $YGG_ETCD_PASSWORD';

export interface EtcdFlagValues {
  etcd?: string;
  'etcd-prefix'?: string;
  'etcd-ca'?: string;
  'etcd-cert'?: string;
  'etcd-key'?: string;
  'etcd-user'?: string;
  'etcd-password-file'?: string;
  'etcd-credentials'?: string;
}

export function readSecret(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new UsageError(`--${flag}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function credentialsFromFlags(values: EtcdFlagValues): { user?: string; password?: string } {
  const file = values['etcd-credentials'];
  if (file !== undefined) {
    if (values['etcd-user'] !== undefined || values['etcd-password-file'] !== undefined) throw new UsageError('--etcd-credentials names the user and password: drop --etcd-user and --etcd-password-file');
    try {
      return parseCredential(readSecret(file, 'etcd-credentials'), file);
    } catch (error) {
      if (error instanceof CredentialFileError) throw new UsageError(`--etcd-credentials: ${error.message}`);
      throw error;
    }
  }
  const user = values['etcd-user'];
  const password = values['etcd-password-file'] ? readSecret(values['etcd-password-file'], 'etcd-password-file') : process.env.YGG_ETCD_PASSWORD;
  if (user !== undefined && password === undefined) throw new UsageError('--etcd-user needs a password: --etcd-password-file FILE or $YGG_ETCD_PASSWORD');
  return { ...(user !== undefined && { user }), ...(password !== undefined && { password }) };
}

export function etcdConnectionFromFlags(values: EtcdFlagValues): { connection: EtcdConnectionOptions; prefix: string } {
  let endpoints: string[];
  try {
    endpoints = parseEtcdEndpoints(values.etcd ?? 'http://127.0.0.1:2379');
  } catch (error) {
    if (error instanceof StoreError && error.code === 'E_ETCD_URL_CREDENTIALS') throw new UsageError(`--etcd: ${error.message}; ${CREDENTIALS_HINT}`);
    if (error instanceof StoreError) throw new UsageError(`--etcd: ${error.message}`);
    throw error;
  }
  // Read later by the client: a missing or unreadable file is the flag's mistake, said as such now.
  for (const flag of ['etcd-ca', 'etcd-cert', 'etcd-key'] as const) {
    const file = values[flag];
    if (file === undefined) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch (error) {
      throw new UsageError(`--${flag}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  const tlsFiles = { caFile: values['etcd-ca'], certFile: values['etcd-cert'], keyFile: values['etcd-key'] };
  const tls = Object.fromEntries(Object.entries(tlsFiles).filter(([, file]) => file !== undefined)) as EtcdConnectionOptions['tls'];
  const { user, password } = credentialsFromFlags(values);
  const prefix = values['etcd-prefix'] ?? DEFAULT_ETCD_PREFIX;
  if (!/^\/[A-Za-z0-9._/-]*[^/]$/.test(prefix)) throw new UsageError(`--etcd-prefix must be an absolute key path without a trailing /, got "${prefix}"`);
  return {
    connection: { endpoints, ...(tls && Object.keys(tls).length > 0 ? { tls } : {}), ...(user !== undefined ? { auth: { user, password: password! } } : {}) },
    prefix,
  };
}

