// A client with etcd's `root` user, turning authentication on first when it is off: only root may
// manage users and roles once auth is on, and only before it is on may anyone create root.
// Root logs in with a password, or — etcd started with --client-cert-auth — with a client
// certificate whose common name is `root`.
import { EtcdPermissionDeniedError, EtcdRoleExistsError, EtcdUserExistsError, type Etcd3 } from 'etcd3';
import { connectEtcd, type EtcdConnectionOptions } from '../store/etcd-connection.js';
import { StoreError } from '../store/store-errors.js';
import { generatePassword } from './credential-files.js';

export const ROOT_USER = 'root';

/** etcd would not let us in as root: a wrong root password, or a certificate that does not name root. */
export class RootLoginError extends Error {
  readonly code = 'E_ETCD_ROOT_LOGIN';
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`etcd refuses root: ${reason}`, options);
    this.name = 'RootLoginError';
  }
}

export interface RootConnection {
  readonly client: Etcd3;
  /** True when this call turned authentication on (with a certificate: when it created root). */
  readonly enabledAuth: boolean;
}

/** `rootPassword` undefined: the connection's client certificate names root. */
export async function connectAsRoot(connection: EtcdConnectionOptions, rootPassword: string | undefined): Promise<RootConnection> {
  const { auth: _ignored, ...anonymous } = connection;
  if (rootPassword === undefined) {
    // A certificate authenticates every request, so "auth is off" cannot be told apart from "we are
    // root": make sure root exists and enable auth, both no-ops when done before.
    const client = await connectEtcd(anonymous);
    try {
      const created = await ensureRoot(client, undefined);
      await client.auth.authEnable();
      return { client, enabledAuth: created };
    } catch (error) {
      client.close();
      if (error instanceof EtcdPermissionDeniedError) throw new RootLoginError('the client certificate (--etcd-cert) must have the common name root', { cause: error });
      throw error;
    }
  }
  const asRoot = () => loginAsRoot(anonymous, rootPassword);
  let open: Etcd3;
  try {
    open = await connectEtcd(anonymous);
  } catch (error) {
    // etcd refuses a request without credentials only when auth is on: then root must log in
    if (error instanceof StoreError && error.code === 'E_ETCD_AUTH') return { client: await asRoot(), enabledAuth: false };
    throw error;
  }
  try {
    await ensureRoot(open, rootPassword);
    await open.auth.authEnable();
  } finally {
    open.close();
  }
  return { client: await asRoot(), enabledAuth: true };
}

/** A root client of an etcd whose authentication is on already (the controller's: turning it on is etcd-setup's). */
export async function loginAsRoot(connection: EtcdConnectionOptions, rootPassword: string): Promise<Etcd3> {
  try {
    return await connectEtcd({ ...connection, auth: { user: ROOT_USER, password: rootPassword } });
  } catch (error) {
    if (error instanceof StoreError && error.code === 'E_ETCD_AUTH') throw new RootLoginError('wrong password in --root-password-file', { cause: error });
    if (error instanceof Error && /authentication is not enabled/.test(error.message)) throw new RootLoginError('authentication is off in etcd: run ygg etcd-setup first', { cause: error });
    throw error;
  }
}

/**
 * Creates root with the `root` role; returns whether it created the user. Given a password, an
 * existing root (left by an earlier attempt, auth still off) gets it; without one, a new root gets a
 * random password nobody keeps (it logs in by certificate).
 */
async function ensureRoot(client: Etcd3, password: string | undefined): Promise<boolean> {
  await client.role(ROOT_USER).create().catch(ignore(EtcdRoleExistsError));
  // Asked first, not told by the create: the client retries a create that timed out, and the retry
  // of one etcd did apply answers "exists" (a busy etcd spends 60 ms+ hashing each password).
  const created = !(await client.getUsers()).some((user) => user.name === ROOT_USER);
  if (created) await client.user(ROOT_USER).create(password ?? generatePassword()).catch(ignore(EtcdUserExistsError));
  else if (password !== undefined) await client.user(ROOT_USER).setPassword(password);
  const roles = await client.user(ROOT_USER).roles();
  if (!roles.some((role) => role.name === ROOT_USER)) await client.user(ROOT_USER).addRole(ROOT_USER);
  return created;
}

/** A rejection handler that swallows one error class (answering `value`) and rethrows the rest. */
export function ignore<T>(kind: new (...args: never[]) => Error, value?: T): (error: unknown) => T {
  return (error) => {
    if (error instanceof kind) return value as T;
    throw error;
  };
}
