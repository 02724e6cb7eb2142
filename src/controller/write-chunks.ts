// Splits a reconcile's writes into transactions that each carry their own audit record, so a crash
// between two transactions loses no audit and repeats none: the next reconcile recomputes only
// what is still missing and audits exactly that.
import type { AuditOutcome, CommitRef, SyncHistoryRecord } from '../store/records.js';
import type { AuditAction, StoreOp } from './reconcile-fleet.js';

/** etcd's default --max-txn-ops is 128; the store splits above 64, so a chunk and its audit fit in one. */
export const OPS_PER_TRANSACTION = 63;

export interface WriteChunk {
  readonly ops: readonly StoreOp[];
  readonly audit: SyncHistoryRecord;
}

export interface AuditContext {
  readonly commit: CommitRef;
  readonly trigger: string;
  readonly outcome: AuditOutcome;
  readonly note?: string;
  /** The reconcile's time; chunk i is stamped i ms later so every audit key is distinct and ordered. */
  readonly nowMs: number;
}

export function chunkWrites(ops: readonly StoreOp[], opActions: readonly (readonly AuditAction[])[], context: AuditContext): WriteChunk[] {
  const chunks: WriteChunk[] = [];
  for (let start = 0; start < ops.length; start += OPS_PER_TRANSACTION) {
    const index = chunks.length;
    chunks.push({
      ops: ops.slice(start, start + OPS_PER_TRANSACTION),
      audit: {
        commit: context.commit,
        time: new Date(context.nowMs + index).toISOString(),
        trigger: context.trigger,
        actions: opActions.slice(start, start + OPS_PER_TRANSACTION).flat(),
        outcome: context.outcome,
        ...(context.note ? { note: context.note } : {}),
      },
    });
  }
  return chunks;
}
