// The controller's own writes, remembered until the watch brings them back. etcd's watch cannot
// leave out one's own writes, so every put the controller makes (85,000 at the initial sync of a
// 10,000-job fleet) comes back as an event: parsed, it cost a second copy of each value in flight
// (the peak RSS of that sync) and a no-op reconcile after each write. A value is known by the digest
// of the exact bytes written, so the watch can tell an echo before decoding it, and anything else
// written to the key, a hand edit above all, is taken in as before.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../plan/canonical-json.js';
import type { BatchOp } from '../store/state-store.js';
import type { StoreOp } from './reconcile-fleet.js';

/** What a delete is remembered as: no value's digest is empty. */
const DELETED = '';

function digestOf(bytes: string | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}

export const keyOf = (op: StoreOp) => ('put' in op ? op.put : op.delete);

/** One write to one key, from just before it is sent until its echo. */
export interface ExpectedWrite {
  readonly digest: string;
  /** What was written (undefined: a delete), for the mirror to take in when the echo says so. */
  readonly value: unknown;
  /** The mirror took it in when the write's reply came. */
  applied: boolean;
  /** Another change to the key reached the mirror after that: the echo must put this value back. */
  overtaken: boolean;
  /** Its echo came back. */
  echoed: boolean;
}

export class OwnWrites {
  /** key → the writes there whose echo has not come back, oldest first. */
  private readonly pending = new Map<string, ExpectedWrite[]>();

  /**
   * Before the write is sent (its echo may come back before the write's own answer): the writes
   * expected, by key, and the ops to send, each put with the text its digest was taken of.
   */
  expect(ops: readonly StoreOp[]): { readonly expected: Map<string, ExpectedWrite>; readonly sending: BatchOp[] } {
    // The store writes only the last op of a key that a batch names twice (etcd refuses a
    // transaction naming a key twice): the earlier one never comes back.
    const expected = new Map<string, ExpectedWrite>();
    const sending = ops.map((op): BatchOp => {
      if (!('put' in op)) {
        expected.set(op.delete, { digest: DELETED, value: undefined, applied: false, overtaken: false, echoed: false });
        return op;
      }
      const text = canonicalJson(op.value);
      expected.set(op.put, { digest: digestOf(text), value: op.value, applied: false, overtaken: false, echoed: false });
      return { ...op, text };
    });
    for (const [key, write] of expected) {
      const writes = this.pending.get(key) ?? [];
      writes.push(write);
      this.pending.set(key, writes);
    }
    return { expected, sending };
  }

  /** After a failed write: nothing of it will come back (or, written after all, it is taken in as anyone's). */
  forget(expected: ReadonlyMap<string, ExpectedWrite>): void {
    for (const [key, write] of expected) {
      const writes = this.pending.get(key);
      const index = writes?.indexOf(write) ?? -1;
      if (index >= 0) this.drop(key, writes!, index, 1);
    }
  }

  /**
   * The write `value` (undefined: a delete) is the echo of, if the controller wrote exactly that to
   * `key`. Asked as the watch receives it, before the events ahead of it are delivered: it is
   * forgotten when the echo is delivered (`delivered`).
   */
  echoOf(key: string, value: Uint8Array | undefined): ExpectedWrite | undefined {
    const digest = value === undefined ? DELETED : digestOf(value);
    const write = this.pending.get(key)?.find((candidate) => !candidate.echoed && candidate.digest === digest);
    if (write) write.echoed = true;
    return write;
  }

  delivered(key: string, write: ExpectedWrite): void {
    const writes = this.pending.get(key);
    const index = writes?.indexOf(write) ?? -1;
    // Writes to one key are made one after another and come back in that order: an older one still
    // waiting when a later one is back was not written (or came back inside a resync).
    if (index >= 0) this.drop(key, writes!, 0, index + 1);
  }

  /** A change to `key` that is not an echo reached the mirror: writes it overwrote there must be put back by their echo. */
  overtake(key: string): void {
    for (const write of this.pending.get(key) ?? []) if (write.applied) write.overtaken = true;
  }

  /** After a resync the writes before it never come back one by one. */
  clear(): void {
    this.pending.clear();
  }

  private drop(key: string, writes: ExpectedWrite[], start: number, count: number): void {
    writes.splice(start, count);
    if (writes.length === 0) this.pending.delete(key);
  }
}
