// A rollout in one line, the same words wherever people meet it: `ygg status`, the audit note of a
// revert, the console. Pure: the time to count a deadline from comes in.
import type { JobHealth } from '../server/controller-status.js';

export interface FailureFacts {
  readonly batch?: number;
  readonly reason?: string;
  readonly revertedHosts?: readonly string[];
  readonly revertedTo?: string;
}

/** `failed at batch 1: h2 not healthy within 300s (CrashLoop: exit 1); reverted 1 host to a1b2c3d` */
export function describeFailure(failure: FailureFacts): string {
  const at = failure.batch !== undefined ? ` at batch ${failure.batch}` : '';
  const hosts = failure.revertedHosts?.length ?? 0;
  const reverted = failure.revertedTo !== undefined ? `reverted ${hosts} host${hosts === 1 ? '' : 's'} to ${failure.revertedTo.slice(0, 7)}` : 'nothing reverted';
  return `failed${at}: ${failure.reason ?? 'no reason recorded'}; ${reverted}`;
}

/** `rolling 2/4 batches, 3/8 updated, 5/8 healthy, deadline in 4m12s`, or how it failed; undefined without a rollout. */
export function describeRollout(job: JobHealth, nowMs: number): string | undefined {
  const rollout = job.rollout;
  if (!rollout) return undefined;
  if (rollout.failure) return describeFailure({ batch: rollout.batch, ...rollout.failure });
  const deadline = rollout.deadline === undefined ? '' : `, ${describeDeadline(Date.parse(rollout.deadline) - nowMs)}`;
  return `rolling ${rollout.batch}/${rollout.batches} batches, ${rollout.done}/${rollout.total} updated, ${job.healthy}/${job.desired} healthy${deadline}`;
}

function describeDeadline(leftMs: number): string {
  if (!(leftMs > 0)) return 'deadline passed';
  const seconds = Math.ceil(leftMs / 1000);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  const text = hours > 0 ? `${hours}h${String(minutes).padStart(2, '0')}m` : minutes > 0 ? `${minutes}m${String(rest).padStart(2, '0')}s` : `${rest}s`;
  return `deadline in ${text}`;
}
