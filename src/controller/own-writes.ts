// The controller's own writes, remembered until the watch brings them back. etcd's watch cannot
// leave out one's own writes, so every put the controller makes (85,000 at the initial sync of a
// 10,000-job fleet) comes back as an event: parsed, it cost a second copy of each value in flight
// (the peak RSS of that sync) and a no-op reconcile after each write. A value is known by the digest
// of the exact bytes written, so the watch can tell an echo before decoding it, and anything else
// written to the key, a hand edit above all, is taken in as before.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../plan/canonical-json.js';
import type { StoreOp } from './reconcile-fleet.js';

/** What a delete is remembered as: no value's digest is empty. */
const DELETED = '';

function digestOf(bytes: string | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}

const keyOf = (op: StoreOp) => ('put' in op ? op.put : op.delete);

export class OwnWrites {
  /** key → digests of the values written there and not seen back yet, oldest first. */
  private readonly pending = new Map<string, string[]>();

  /** Before the write is sent: its echo may come back before the write's own answer. */
  expect(ops: readonly StoreOp[]): void {
    // The store writes only the last op of a key that a batch names twice (etcd refuses a
    // transaction naming a key twice): the earlier one never comes back.
    const last = new Map<string, StoreOp>();
    for (const op of ops) last.set(keyOf(op), op);
    for (const [key, op] of last) {
      const digests = this.pending.get(key) ?? [];
      digests.push('put' in op ? digestOf(canonicalJson(op.value)) : DELETED);
      this.pending.set(key, digests);
    }
  }

  /** After a failed write: nothing of it will come back (or, written after all, it is taken in as anyone's). */
  forget(ops: readonly StoreOp[]): void {
    for (const op of ops) this.take(keyOf(op), 'put' in op ? digestOf(canonicalJson(op.value)) : DELETED, false);
  }

  /** True when `value` (undefined: a delete) is exactly what the controller wrote to `key`; it is then forgotten. */
  isEcho(key: string, value: Uint8Array | undefined): boolean {
    if (!this.pending.has(key)) return false;
    return this.take(key, value === undefined ? DELETED : digestOf(value), true);
  }

  /** After a resync the writes before it never come back one by one. */
  clear(): void {
    this.pending.clear();
  }

  private take(key: string, digest: string, echoed: boolean): boolean {
    const digests = this.pending.get(key);
    const index = digests?.indexOf(digest) ?? -1;
    if (index < 0) return false;
    // Writes to one key are made one after another and come back in that order: an older one still
    // waiting when a later one is back was not written (or came back inside a resync).
    digests!.splice(echoed ? 0 : index, echoed ? index + 1 : 1);
    if (digests!.length === 0) this.pending.delete(key);
    return true;
  }
}
