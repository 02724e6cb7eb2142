// The controller keeps etcd's users and roles following the commit in force (what `ygg etcd-setup`
// does by hand), when it is given etcd's root credential. The order is the safety contract's (§3a):
// * a host a commit adds gets its user, role and credential file BEFORE its assignments are written
//   (the controller runs this ahead of the reconcile's writes);
// * a host a commit removes keeps its access while its agent still runs or removes one of its jobs
//   (it must read its RemovalRecords and deregister its endpoints), and is revoked by a later
//   reconcile, once its assignments and statuses are gone or its agent is gone (lost) — never in
//   the step that writes its last removal;
// * likewise a host whose job moves away keeps its naming grant until that job is gone from it, so
//   its endpoint is not deleted before the replacement is up.
// A failure is no reason to stop reconciling: it is logged once, noted in the audit, and retried.
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import { planAccess } from '../authz/access-plan.js';
import { applyAccess, type AccessChanges } from '../authz/apply-access.js';
import type { CredentialDirectory } from '../authz/credential-files.js';
import type { FleetIndex } from '../model/fleet-index.js';
import type { Model } from '../model/types.js';
import type { KeyLayout } from '../store/keys.js';
import type { ObservedState } from './observed-state.js';

export interface AccessSyncOptions {
  /** Logged in as etcd's root. */
  readonly root: Etcd3;
  readonly credentials: CredentialDirectory;
  readonly layout: KeyLayout;
  readonly logger: Logger;
  readonly now?: () => number;
}

export interface AccessTarget {
  readonly sha: string;
  readonly model: Model;
  readonly index: FleetIndex;
  /** The commit says so ([ygg:allow-prune]): revoking more than 10 % of the hosts at once is meant. */
  readonly allowMassRevocation: boolean;
}

/** After a failure, wait this long before the next attempt (each costs a read of every role). */
export const ACCESS_RETRY_MS = 30_000;

/**
 * Hosts that still run or are removing a job the commit does not place on them, while their agent
 * is alive: their access may grow but not shrink yet. Pure.
 */
export function hostsInFlight(model: Model, index: FleetIndex, observed: ObservedState): Set<string> {
  const inFlight = new Set<string>();
  const placed = (host: string, jobName: string) => {
    const job = model.jobs.get(jobName);
    const node = job && index.jobNode(job);
    return node !== undefined && index.nodeHosts(node).some((candidate) => candidate.name === host);
  };
  for (const host of observed.liveAgents) {
    const jobs = [...(observed.assignments.get(host)?.keys() ?? []), ...(observed.removals?.get(host)?.keys() ?? []), ...(observed.statuses.get(host)?.keys() ?? [])];
    if (jobs.some((job) => !model.hosts.has(host) || !placed(host, job))) inFlight.add(host);
  }
  return inFlight;
}

export class AccessSync {
  /** The commit last applied, and the hosts held back then. */
  private applied: { readonly sha: string; readonly held: ReadonlySet<string> } | undefined;
  private failure: { readonly sha: string; readonly message: string; readonly atMs: number } | undefined;
  private readonly now: () => number;

  constructor(private readonly options: AccessSyncOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Applies the commit's access when it is new, when a held-back host is done, or to retry a
   * failure. Returns a note for the audit when a new failure starts; never throws.
   */
  async sync(target: AccessTarget, observed: ObservedState): Promise<string | undefined> {
    // The common case, checked without looking at the fleet: nothing new, nobody held back.
    if (this.applied?.sha === target.sha && this.applied.held.size === 0 && !this.failure) return undefined;
    const held = hostsInFlight(target.model, target.index, observed);
    if (!this.due(target.sha, held)) return undefined;
    const { root, credentials, layout, logger } = this.options;
    try {
      const changes = await applyAccess({
        client: root,
        plan: planAccess(target.model, target.index, layout.prefix),
        layout,
        credentials,
        retainHosts: held,
        allowMassRevocation: target.allowMassRevocation,
      });
      this.applied = { sha: target.sha, held };
      if (this.failure) logger.info({ event: 'access_applied_again', commit: target.sha }, 'etcd access follows the commit again');
      this.failure = undefined;
      if (changed(changes)) logger.info({ event: 'access_applied', commit: target.sha, ...summary(changes), held: [...held].sort() }, 'etcd users and roles follow the commit');
      return undefined;
    } catch (error) {
      const message = (error as Error).message;
      const repeated = this.failure?.message === message;
      this.failure = { sha: target.sha, message, atMs: this.now() };
      if (repeated) return undefined;
      logger.error({ event: 'access_failed', commit: target.sha, code: (error as { code?: unknown }).code, error: message }, `etcd access not applied: ${message}`);
      return `etcd access not applied: ${message}`;
    }
  }

  private due(sha: string, held: ReadonlySet<string>): boolean {
    if (this.failure) return this.failure.sha !== sha || this.now() - this.failure.atMs >= ACCESS_RETRY_MS;
    if (this.applied?.sha !== sha) return true;
    // A host held back last time that is done now: its revocation (or narrowing) is due.
    return [...this.applied.held].some((host) => !held.has(host));
  }
}

function changed(changes: AccessChanges): boolean {
  return Object.values(changes).some((value) => (Array.isArray(value) ? value.length > 0 : value !== 0));
}

function summary(changes: AccessChanges): Record<string, unknown> {
  return Object.fromEntries(Object.entries(changes).filter(([, value]) => (Array.isArray(value) ? value.length > 0 : value !== 0)));
}
