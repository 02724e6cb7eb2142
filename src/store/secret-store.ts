// Secrets in etcd, outside the fleet prefix (issue 12): etcd grants add up and cannot be
// subtracted, and read-only users and directors read the whole fleet prefix, so a secret under it
// would be theirs too. Fleet prefix `/ygg/v1` → secrets under `/ygg/v1-secrets/`:
//
//   values/<name>    the value, raw bytes: read by the hosts whose jobs reference it (exact-key grant)
//   versions/<name>  { version, updatedAt }: what the controller watches; it never needs a value
//
// Both are written in one transaction, so they share a mod revision: an assignment names the
// revision it was made for, and an agent that finds another one knows the secret moved on.
import { CompareResult, CompareTarget, type Etcd3 } from 'etcd3';
import { describeEndpoints } from './etcd-connection.js';
import { toStoreError } from './map-etcd-error.js';
import { startRangeWatch, type WatchHandle } from './range-watch.js';

export interface SecretKeys {
  /** Every key of the secrets, with a trailing `/`: what the controller role may read. */
  readonly prefix: string;
  value(name: string): string;
  version(name: string): string;
  readonly versions: string;
}

export function secretKeys(fleetPrefix: string): SecretKeys {
  const base = `${fleetPrefix.replace(/\/+$/, '')}-secrets/`;
  return {
    prefix: base,
    value: (name) => `${base}values/${name}`,
    version: (name) => `${base}versions/${name}`,
    versions: `${base}versions/`,
  };
}

/** The identity of one value of a secret: what a spec hash includes and an assignment carries. */
export interface SecretVersion {
  /** 1 for the first value, +1 per `ygg secret set`: what people read. */
  readonly version: number;
  /** etcd's mod revision of the write: unique even when a removed secret is set again from 1. */
  readonly revision: string;
}

export interface StoredSecretVersion extends SecretVersion {
  readonly updatedAt: string;
}

/** etcd refuses requests over --max-request-bytes (1.5 MiB by default); a secret is far smaller. */
export const MAX_SECRET_BYTES = 512 * 1024;

export class SecretError extends Error {
  /** A missing or moved secret may be set, or its new assignment come: the agent tries again. */
  readonly retryable = true;
  constructor(
    readonly code: 'E_SECRET_EMPTY' | 'E_SECRET_TOO_LARGE' | 'E_SECRET_MISSING' | 'E_SECRET_MOVED' | 'E_SECRET_CONFLICT',
    message: string,
    readonly secret: string,
  ) {
    super(message);
    this.name = 'SecretError';
  }
}

async function request<T>(client: Etcd3, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw toStoreError(error, describeEndpoints(client));
  }
}

const SET_ATTEMPTS = 5;

/** Stores a new value; returns its version. Two concurrent sets each get their own number. */
export async function setSecret(client: Etcd3, keys: SecretKeys, name: string, value: Buffer, now: Date): Promise<StoredSecretVersion> {
  if (value.length === 0) throw new SecretError('E_SECRET_EMPTY', `secret ${name}: the value is empty`, name);
  if (value.length > MAX_SECRET_BYTES) throw new SecretError('E_SECRET_TOO_LARGE', `secret ${name}: ${value.length} bytes, more than ${MAX_SECRET_BYTES}`, name);
  const versionKey = keys.version(name);
  for (let attempt = 0; attempt < SET_ATTEMPTS; attempt++) {
    const current = await request(client, () => client.get(versionKey).exec());
    const kv = current.kvs[0];
    const next = (kv ? (parseVersion(kv.value.toString())?.version ?? 0) : 0) + 1;
    const updatedAt = now.toISOString();
    const written = await request(client, () =>
      client.kv.txn({
        // Unchanged since read (or still absent: mod revision 0), else another set came first.
        compare: [{ key: Buffer.from(versionKey), target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: kv ? kv.mod_revision : '0' }],
        success: [
          { request_put: { key: Buffer.from(keys.value(name)), value } },
          { request_put: { key: Buffer.from(versionKey), value: Buffer.from(JSON.stringify({ version: next, updatedAt })) } },
        ],
        failure: [],
      }),
    );
    if (written.succeeded) return { version: next, revision: String(written.header.revision), updatedAt };
  }
  throw new SecretError('E_SECRET_CONFLICT', `secret ${name}: changed by someone else ${SET_ATTEMPTS} times while setting it, nothing written`, name);
}

/** Every secret's version, by name; values are not read (keys under versions/ only). */
export async function readSecretVersions(client: Etcd3, keys: SecretKeys): Promise<{ versions: Map<string, StoredSecretVersion>; revision: string }> {
  const response = await request(client, () => client.getAll().prefix(keys.versions).exec());
  const versions = new Map<string, StoredSecretVersion>();
  for (const kv of response.kvs) {
    const parsed = parseVersion(kv.value.toString());
    if (parsed) versions.set(kv.key.toString().slice(keys.versions.length), { ...parsed, revision: String(kv.mod_revision) });
  }
  return { versions, revision: String(response.header.revision) };
}

/** Parses a versions/ value; undefined for anything else (a hand edit is no version). */
export function parseVersion(text: string): { version: number; updatedAt: string } | undefined {
  try {
    const value = JSON.parse(text) as { version?: unknown; updatedAt?: unknown };
    if (Number.isSafeInteger(value.version) && (value.version as number) > 0 && typeof value.updatedAt === 'string') return { version: value.version as number, updatedAt: value.updatedAt };
  } catch {
    // not JSON: not a version
  }
  return undefined;
}

/** Deletes a secret's value and version together; returns whether it existed. */
export async function removeSecret(client: Etcd3, keys: SecretKeys, name: string): Promise<boolean> {
  const response = await request(client, () =>
    client.kv.txn({ compare: [], success: [{ request_delete_range: { key: Buffer.from(keys.value(name)) } }, { request_delete_range: { key: Buffer.from(keys.version(name)) } }], failure: [] }),
  );
  return response.responses.some((result) => Number(result.response_delete_range?.deleted ?? 0) > 0);
}

/**
 * The value an assignment was made for. A value written since (another revision) is refused: the
 * controller will assign the new version, and a release must hold the value its hash names.
 */
export async function readSecretValue(client: Etcd3, keys: SecretKeys, name: string, expected: SecretVersion): Promise<string> {
  const response = await request(client, () => client.get(keys.value(name)).exec());
  const kv = response.kvs[0];
  if (!kv) throw new SecretError('E_SECRET_MISSING', `secret ${name} is not in the store`, name);
  if (String(kv.mod_revision) !== expected.revision) {
    throw new SecretError('E_SECRET_MOVED', `secret ${name} changed since version ${expected.version} was assigned: waiting for the controller's new assignment`, name);
  }
  return kv.value.toString();
}

/**
 * Calls `onChange` after any change under versions/ from `fromRevision` on (a resync counts): the
 * controller re-reads the versions at its next reconcile, so the watch carries no state of its own.
 */
export function watchSecretVersions(client: Etcd3, keys: SecretKeys, fromRevision: string, onChange: () => void, onError: (error: unknown) => void): WatchHandle {
  const anything = (_value: unknown): _value is unknown => true;
  const read = async () => ({ entries: new Map(), skipped: [], revision: (await readSecretVersions(client, keys)).revision });
  return startRangeWatch(client, { prefix: keys.versions }, fromRevision, anything, read, () => onChange(), { onError });
}
