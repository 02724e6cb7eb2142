// Puts a reconcile's writes into etcd a transaction at a time, each carrying its own audit record and
// guarded by leadership, and files the writes of a failed rollout under the commit whose rollout
// failed, which may no longer be the commit in force (a later commit changed other jobs meanwhile).
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

export class AuditedWriter {
  constructor(private readonly options: AuditedWriterOptions) {}

  /** Writes the chunks in order; returns how many ops (audit records aside) were written. */
  async write(chunks: readonly WriteChunk[]): Promise<number> {
    const { store, layout, informer, leadership } = this.options;
    let written = 0;
    for (const chunk of chunks) {
      const audit = { put: layout.syncHistory(new Date(chunk.audit.time), chunk.audit.commit.sha), value: chunk.audit };
      await store.applyBatch([...chunk.ops, audit], leadership.guard());
      informer.applyLocally(chunk.ops);
      written += chunk.ops.length;
    }
    return written;
  }

  /** Each failed rollout's reverts and record, audited as RolloutFailed under the commit that failed. */
  async writeRolloutFailures(failures: readonly RolloutFailureWrites[], inForce: CommitRef, trigger: string, nowMs: number): Promise<number> {
    let written = 0;
    for (const failure of failures) {
      const sha = failure.rollout.commit;
      const commit = sha === inForce.sha ? inForce : await this.commitRef(sha);
      const note = `${failure.rollout.job}: ${describeFailure(failure.rollout)}`;
      written += await this.write(chunkWrites(failure.ops, failure.opActions, { commit, trigger, outcome: 'RolloutFailed', nowMs, note }));
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
