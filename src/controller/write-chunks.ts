// Splits a reconcile's writes into transactions that each carry their own audit record, so a crash
// between two transactions loses no audit and repeats none: the next reconcile recomputes only
// what is still missing and audits exactly that. Transactions go several at a time, so each names
// the earlier ones it must follow: those holding writes of the same job (a rollout's record goes
// before its batch, a failed one after the reverts) and those holding writes about the whole
// fleet (lost/ records before the moves they allow; hosts, zones, VIPs after the jobs).
import type { KeyLayout } from '../store/keys.js';
import type { AuditOutcome, CommitRef, SyncHistoryRecord } from '../store/records.js';
import type { AuditAction, StoreOp } from './reconcile-fleet.js';

/** etcd's default --max-txn-ops is 128; the store splits above 64, so a chunk and its audit fit in one. */
export const OPS_PER_TRANSACTION = 63;

export interface WriteChunk {
  readonly ops: readonly StoreOp[];
  readonly audit: SyncHistoryRecord;
  /** Indexes of the earlier chunks that must be written before this one starts. */
  readonly after: readonly number[];
}

export interface AuditContext {
  readonly layout: KeyLayout;
  readonly commit: CommitRef;
  readonly trigger: string;
  readonly outcome: AuditOutcome;
  readonly note?: string;
  /** The reconcile's time; chunk i is stamped i ms later so every audit key is distinct and ordered. */
  readonly nowMs: number;
}

const FLEET = '';

/** The job an op writes for (assign/<host>/<job>, rollouts/<job>), or FLEET. */
function groupOf(op: StoreOp, layout: KeyLayout): string {
  const key = 'put' in op ? op.put : op.delete;
  if (key.startsWith(layout.rollouts)) return key.slice(layout.rollouts.length);
  if (key.startsWith(layout.assignments())) return key.slice(key.lastIndexOf('/') + 1);
  return FLEET;
}

export function chunkWrites(ops: readonly StoreOp[], opActions: readonly (readonly AuditAction[])[], context: AuditContext): WriteChunk[] {
  const chunks: WriteChunk[] = [];
  const lastWith = new Map<string, number>();
  const fleetChunks: number[] = [];
  for (let start = 0; start < ops.length; start += OPS_PER_TRANSACTION) {
    const index = chunks.length;
    const chunkOps = ops.slice(start, start + OPS_PER_TRANSACTION);
    const groups = new Set(chunkOps.map((op) => groupOf(op, context.layout)));
    const after = new Set(fleetChunks);
    if (groups.has(FLEET)) for (let earlier = 0; earlier < index; earlier++) after.add(earlier);
    for (const group of groups) {
      const earlier = lastWith.get(group);
      if (earlier !== undefined) after.add(earlier);
      lastWith.set(group, index);
    }
    if (groups.has(FLEET)) fleetChunks.push(index);
    chunks.push({
      ops: chunkOps,
      after: [...after].sort((a, b) => a - b),
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
