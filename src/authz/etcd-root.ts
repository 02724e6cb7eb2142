// A client with etcd's `root` user, turning authentication on first when it is off: only root may
// manage users and roles once auth is on, and only before it is on may anyone create root.
import { EtcdRoleExistsError, EtcdUserExistsError, type Etcd3 } from 'etcd3';
import { connectEtcd, type EtcdConnectionOptions } from '../store/etcd-connection.js';
import { StoreError } from '../store/store-errors.js';

export const ROOT_USER = 'root';

export interface RootConnection {
  readonly client: Etcd3;
  /** True when this call turned authentication on. */
  readonly enabledAuth: boolean;
}

export async function connectAsRoot(connection: EtcdConnectionOptions, rootPassword: string): Promise<RootConnection> {
  const { auth: _ignored, ...anonymous } = connection;
  let open: Etcd3;
  try {
    open = await connectEtcd(anonymous);
  } catch (error) {
    // etcd refuses a request without credentials only when auth is on: then root must log in
    if (error instanceof StoreError && error.code === 'E_ETCD_AUTH') return { client: await connectEtcd({ ...connection, auth: { user: ROOT_USER, password: rootPassword } }), enabledAuth: false };
    throw error;
  }
  try {
    await enableAuth(open, rootPassword);
  } finally {
    open.close();
  }
  return { client: await connectEtcd({ ...connection, auth: { user: ROOT_USER, password: rootPassword } }), enabledAuth: true };
}

/** Creates root with the `root` role (or, left from an earlier attempt, gives it this password), then turns auth on. */
async function enableAuth(client: Etcd3, rootPassword: string): Promise<void> {
  await client.role(ROOT_USER).create().catch(ignore(EtcdRoleExistsError));
  const created = await client.user(ROOT_USER).create(rootPassword).then(
    () => true,
    ignore(EtcdUserExistsError, false),
  );
  if (!created) await client.user(ROOT_USER).setPassword(rootPassword);
  await client.user(ROOT_USER).addRole(ROOT_USER);
  await client.auth.authEnable();
}

/** A rejection handler that swallows one error class (answering `value`) and rethrows the rest. */
export function ignore<T>(kind: new (...args: never[]) => Error, value?: T): (error: unknown) => T {
  return (error) => {
    if (error instanceof kind) return value as T;
    throw error;
  };
}
