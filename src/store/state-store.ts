// Typed access to the etcd key layout for the controller and the agents: checked JSON reads that
// carry the revision to watch from, batched and guarded writes, resumable watches, leases.
import { CompareResult, CompareTarget, type Etcd3, type IKeyValue, type IRequestOp } from 'etcd3';
import { canonicalJson } from '../plan/canonical-json.js';
import { anyJson, decodeEntry, type SkippedEntry, type StoredEntry, type ValueCheck } from './decode-entry.js';
import { describeEndpoints } from './etcd-connection.js';
import type { KeyLayout } from './keys.js';
import { toStoreError } from './map-etcd-error.js';
import { startRangeWatch, type RangeRead, type WatchHandle, type WatchHandler, type WatchOptions, type WatchRange } from './range-watch.js';
import { GuardFailedError } from './store-errors.js';
import { grantLease, type LeaseHandle, type LeaseOptions } from './store-lease.js';

export { anyJson, type SkippedEntry, type StoredEntry, type ValueCheck } from './decode-entry.js';
export type { WatchEvent, WatchHandle, WatchHandler, WatchOptions } from './range-watch.js';
export type { LeaseHandle, LeaseOptions } from './store-lease.js';

export interface PrefixRead<T> extends RangeRead<T> {
  readonly entries: Map<string, StoredEntry<T>>;
  /** Values present but not a valid T (not JSON, wrong shape): left out of `entries`. */
  readonly skipped: SkippedEntry[];
  /** The header revision of the read: watch from it to see every later change. */
  readonly revision: string;
}

export interface KeyRead<T> {
  readonly entry: StoredEntry<T> | undefined;
  readonly skipped: SkippedEntry[];
  readonly revision: string;
}

export type BatchOp = PutOp | { readonly delete: string };

export interface PutOp {
  readonly put: string;
  readonly value: unknown;
  readonly lease?: string;
  /** canonicalJson(value), when the caller made it already (to know the write's echo): not made twice. */
  readonly text?: string;
}

/** The batch is written only while `key` holds `value` (compared as canonical JSON). */
export interface BatchGuard {
  readonly key: string;
  readonly value: unknown;
}

export interface BatchResult {
  readonly ops: number;
  readonly txns: number;
}

/** etcd refuses transactions over --max-txn-ops (default 128) or --max-request-bytes (default 1.5 MiB). */
export const MAX_OPS_PER_TXN = 64;
export const MAX_BYTES_PER_TXN = 1024 * 1024;

export class EtcdStateStore {
  private readonly endpoints: string;

  constructor(
    readonly client: Etcd3,
    readonly layout: KeyLayout,
  ) {
    this.endpoints = describeEndpoints(client);
  }

  async getJson<T>(key: string, check: ValueCheck<T>): Promise<KeyRead<T>> {
    const response = await this.request(() => this.client.get(key).exec());
    const { entries, skipped } = decodeAll(response.kvs, check);
    return { entry: entries.get(key), skipped, revision: String(response.header.revision) };
  }

  async getPrefixJson<T>(prefix: string, check: ValueCheck<T>): Promise<PrefixRead<T>> {
    const response = await this.request(() => this.client.getAll().prefix(prefix).exec());
    return { ...decodeAll(response.kvs, check), revision: String(response.header.revision) };
  }

  /**
   * Writes `ops` in transactions of at most MAX_OPS_PER_TXN ops, each conditional on `guard`, so a
   * deposed leader's batch fails with GuardFailedError. A batch larger than one transaction is not
   * atomic: if the guard fails part way, earlier transactions stay written (the error says how many
   * ops), which a level-triggered writer repairs on its next pass. Several ops on one key collapse to
   * the last (etcd refuses a transaction that names a key twice).
   */
  async applyBatch(ops: readonly BatchOp[], guard?: BatchGuard): Promise<BatchResult> {
    const compare = guard
      ? [{ key: Buffer.from(guard.key), target: CompareTarget.Value, result: CompareResult.Equal, value: Buffer.from(canonicalJson(guard.value)) }]
      : [];
    let written = 0;
    let txns = 0;
    for (const chunk of chunkRequests(collapseByKey(ops))) {
      const response = await this.request(() => this.client.kv.txn({ compare, success: chunk, failure: [] }));
      if (!response.succeeded) throw new GuardFailedError(guard!.key, canonicalJson(guard!.value), written);
      written += chunk.length;
      txns += 1;
    }
    return { ops: written, txns };
  }

  /** Puts `key` only if it does not exist (create revision 0); otherwise returns what is there. */
  async putIfAbsent(key: string, value: unknown, lease?: string): Promise<{ created: boolean; revision: string; existing: IKeyValue | undefined }> {
    const response = await this.request(() =>
      this.client.kv.txn({
        compare: [{ key: Buffer.from(key), target: CompareTarget.Create, result: CompareResult.Equal, create_revision: 0 }],
        success: [putRequest(key, value, lease)],
        failure: [{ request_range: { key: Buffer.from(key) } }],
      }),
    );
    const existing = response.succeeded ? undefined : response.responses[0]?.response_range.kvs[0];
    return { created: response.succeeded, revision: String(response.header.revision), existing };
  }

  /** Deletes `key` only if it is still the value read at `modRevision`; true when it was deleted. */
  async deleteIfUnchanged(key: string, modRevision: string): Promise<boolean> {
    const response = await this.request(() =>
      this.client.kv.txn({
        compare: [{ key: Buffer.from(key), target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: modRevision }],
        success: [{ request_delete_range: { key: Buffer.from(key) } }],
        failure: [],
      }),
    );
    return response.succeeded;
  }

  /**
   * Watches every key under `prefix`, delivering changes after `fromRevision` (the `revision` of the
   * read the caller built its state from). Survives disconnects; after a compaction the handler gets
   * `{ type: 'resync', entries }` with the whole prefix at a new revision.
   */
  watchPrefix<T = unknown>(prefix: string, fromRevision: string, handler: WatchHandler<T>, options: WatchOptions & { check?: ValueCheck<T> } = {}): WatchHandle {
    return this.watchRange({ prefix }, fromRevision, handler, options);
  }

  /** Like watchPrefix, for exactly one key. */
  watchKey<T = unknown>(key: string, fromRevision: string, handler: WatchHandler<T>, options: WatchOptions & { check?: ValueCheck<T> } = {}): WatchHandle {
    return this.watchRange({ key }, fromRevision, handler, options);
  }

  grantLease(ttlSeconds: number, options?: LeaseOptions): Promise<LeaseHandle> {
    return grantLease(this.client, this.endpoints, ttlSeconds, options);
  }

  private watchRange<T>(range: WatchRange, fromRevision: string, handler: WatchHandler<T>, options: WatchOptions & { check?: ValueCheck<T> }): WatchHandle {
    const check = options.check ?? (anyJson as ValueCheck<T>);
    const read = async (): Promise<RangeRead<T>> => {
      if ('prefix' in range) return this.getPrefixJson(range.prefix, check);
      const { entry, skipped, revision } = await this.getJson(range.key, check);
      return { entries: new Map(entry ? [[range.key, entry]] : []), skipped, revision };
    };
    return startRangeWatch(this.client, range, fromRevision, check, read, handler, options);
  }

  private async request<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toStoreError(error, this.endpoints);
    }
  }
}

function decodeAll<T>(kvs: readonly IKeyValue[], check: ValueCheck<T>): { entries: Map<string, StoredEntry<T>>; skipped: SkippedEntry[] } {
  const entries = new Map<string, StoredEntry<T>>();
  const skipped: SkippedEntry[] = [];
  for (const kv of kvs) {
    const decoded = decodeEntry(kv, check);
    if (decoded.ok) entries.set(decoded.key, decoded.entry);
    else skipped.push(decoded.skipped);
  }
  return { entries, skipped };
}

function collapseByKey(ops: readonly BatchOp[]): BatchOp[] {
  const last = new Map<string, BatchOp>();
  for (const op of ops) {
    const key = 'put' in op ? op.put : op.delete;
    last.delete(key);
    last.set(key, op);
  }
  return [...last.values()];
}

function putRequest(key: string, value: unknown, lease?: string, text = canonicalJson(value)): IRequestOp {
  return { request_put: { key: Buffer.from(key), value: Buffer.from(text), ...(lease && { lease }) } };
}

function* chunkRequests(ops: readonly BatchOp[]): Generator<IRequestOp[]> {
  let chunk: IRequestOp[] = [];
  let bytes = 0;
  for (const op of ops) {
    const request = 'put' in op ? putRequest(op.put, op.value, op.lease, op.text) : { request_delete_range: { key: Buffer.from(op.delete) } };
    const size = (request.request_put?.key?.length ?? 0) + (request.request_put?.value?.length ?? 0) + (request.request_delete_range?.key?.length ?? 0);
    if (chunk.length > 0 && (chunk.length === MAX_OPS_PER_TXN || bytes + size > MAX_BYTES_PER_TXN)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(request);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
