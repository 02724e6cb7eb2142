// Puts a reconcile's writes into etcd a few transactions at a time, each carrying its own audit
// record and guarded by leadership, each started only after the ones it must follow, and files the
// writes of a failed rollout under the commit whose rollout failed, which may no longer be the
// commit in force (a later commit changed other jobs meanwhile).
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { ControllerSource } from '../repo/controller-source.js';
import type { KeyLayout } from '../store/keys.js';
import type { CommitRef } from '../store/records.js';
import type { EtcdStateStore } from '../store/state-store.js';
import { unreadCommit } from './commit-rejection.js';
import type { FleetInformer } from './fleet-informer.js';
import type { Leadership } from './fleet-controller.js';
import type { RolloutFailureWrites } from './reconcile-fleet.js';
import { describeFailure } from './rollout-text.js';
import { chunkWrites, type WriteChunk } from './write-chunks.js';

export interface AuditedWriterOptions {
  readonly store: EtcdStateStore;
  readonly layout: KeyLayout;
  readonly informer: FleetInformer;
  readonly leadership: Leadership;
  readonly source: ControllerSource;
  readonly logger: Logger;
}

/**
 * Transactions in flight at once. One at a time, etcd's round trip is the limit (~600 puts/s here);
 * a few in flight keep its disk busy; many would only queue behind its fsync.
 */
export const TRANSACTIONS_IN_FLIGHT = 4;

export class AuditedWriter {
  constructor(private readonly options: AuditedWriterOptions) {}

  /**
   * Writes the chunks, each after the ones it names; returns how many ops (audit records aside) were
   * written. On the first failure nothing more starts, and the failure is thrown once the
   * transactions in flight are done: what was written is in the mirror, the next reconcile does the rest.
   */
  async write(chunks: readonly WriteChunk[]): Promise<number> {
    const { store, layout, informer, leadership } = this.options;
    const queue = new PQueue({ concurrency: TRANSACTIONS_IN_FLIGHT });
    const landed: Promise<void>[] = [];
    let written = 0;
    let failure: { error: unknown } | undefined;
    for (const chunk of chunks) {
      // Queued in order, so every chunk a running one waits for has started: the wait always ends.
      const done = queue.add(async () => {
        await Promise.all(chunk.after.map((index) => landed[index]));
        const audit = { put: layout.syncHistory(new Date(chunk.audit.time), chunk.audit.commit.sha), value: chunk.audit };
        await informer.write(chunk.ops, (ops) => store.applyBatch(ops, leadership.guard()), [audit]);
        written += chunk.ops.length;
      });
      done.catch((error: unknown) => {
        failure ??= { error };
        queue.clear();
      });
      landed.push(done);
    }
    await queue.onIdle();
    if (failure) throw failure.error;
    return written;
  }

  /** Each failed rollout's reverts and record, audited as RolloutFailed under the commit that failed. */
  async writeRolloutFailures(failures: readonly RolloutFailureWrites[], inForce: CommitRef, trigger: string, nowMs: number): Promise<number> {
    let written = 0;
    for (const failure of failures) {
      const sha = failure.rollout.commit;
      const commit = sha === inForce.sha ? inForce : await this.commitRef(sha);
      const note = `${failure.rollout.job}: ${describeFailure(failure.rollout)}`;
      written += await this.write(chunkWrites(failure.ops, failure.opActions, { layout: this.options.layout, commit, trigger, outcome: 'RolloutFailed', nowMs, note }));
    }
    return written;
  }

  /**
   * Who made a commit that is no longer the one in force, read from the fetched objects. The revert
   * it is needed for must be written whatever goes wrong here: the audit then names the sha alone.
   */
  private async commitRef(sha: string): Promise<CommitRef> {
    try {
      const { author, email, message, timestamp } = await this.options.source.git.repository.readCommit(sha);
      return { sha, author, email, message, timestamp };
    } catch (error) {
      this.options.logger.warn({ event: 'commit_unreadable', commit: sha, error: (error as Error).message }, 'cannot read the commit of a failed rollout; auditing it by sha');
      return unreadCommit(sha);
    }
  }
}
