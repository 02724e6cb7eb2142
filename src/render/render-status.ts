// status/<director>/_render: what the renderer last did, for operators, `ygg status` and the
// metrics. One record, changed by three outcomes: written, held, failed. Pure.
import type { SkippedInput } from './render-data.js';

export interface RenderStatusRecord {
  readonly target: string;
  /** The etcd revision and commit the file in place was rendered from. */
  readonly lastRenderRevision?: string;
  readonly lastRenderCommit?: string;
  readonly lastRenderAt?: string;
  /** sha256 of the file in place. */
  readonly checksum?: string;
  readonly lastError?: string;
  readonly lastErrorCode?: string;
  readonly lastErrorAt?: string;
  /** Set while the render gate keeps the file as it is; heldReason says why. */
  readonly held?: true;
  readonly heldReason?: string;
  readonly heldSince?: string;
  /** How many times the renderer started holding the file. */
  readonly holds: number;
  /** Records the last render left out (invalid values): how many, and the first few with why. */
  readonly skipped: number;
  readonly skippedInputs?: readonly SkippedInput[];
  readonly renders: number;
  readonly writes: number;
  readonly updatedAt: string;
}

const MAX_LISTED_SKIPPED = 20;

export function initialStatus(target: string, at: string): RenderStatusRecord {
  return { target, holds: 0, skipped: 0, renders: 0, writes: 0, updatedAt: at };
}

/** A render attempt happened at `at`, leaving `skipped` out. */
function attempted(status: RenderStatusRecord, at: string, skipped: readonly SkippedInput[]): RenderStatusRecord {
  const { skippedInputs: _listed, ...rest } = status;
  return { ...rest, renders: status.renders + 1, skipped: skipped.length, ...(skipped.length > 0 && { skippedInputs: skipped.slice(0, MAX_LISTED_SKIPPED) }), updatedAt: at };
}

export function statusWritten(
  status: RenderStatusRecord,
  at: string,
  render: { readonly revision: string; readonly commit: string | undefined; readonly checksum: string; readonly changed: boolean; readonly skipped: readonly SkippedInput[] },
): RenderStatusRecord {
  const { held: _held, heldReason: _reason, heldSince: _since, lastError: _error, lastErrorCode: _code, lastErrorAt: _errorAt, lastRenderCommit: _commit, ...rest } = attempted(status, at, render.skipped);
  return {
    ...rest,
    lastRenderRevision: render.revision,
    ...(render.commit !== undefined && { lastRenderCommit: render.commit }),
    lastRenderAt: at,
    checksum: render.checksum,
    writes: status.writes + (render.changed ? 1 : 0),
  };
}

export function statusHeld(status: RenderStatusRecord, at: string, reason: string, skipped: readonly SkippedInput[]): RenderStatusRecord {
  const next = attempted(status, at, skipped);
  return { ...next, held: true, heldReason: reason, heldSince: status.heldSince ?? at, holds: status.held ? status.holds : status.holds + 1 };
}

export function statusFailed(status: RenderStatusRecord, at: string, error: { readonly message: string; readonly code?: string }, skipped: readonly SkippedInput[]): RenderStatusRecord {
  const { held: _held, heldReason: _reason, heldSince: _since, lastErrorCode: _code, ...rest } = attempted(status, at, skipped);
  return { ...rest, lastError: error.message, ...(error.code !== undefined && { lastErrorCode: error.code }), lastErrorAt: at };
}
