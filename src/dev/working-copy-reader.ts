// Reads the working copy a dev run follows: the fleet at a commit (which hosts to run), and what
// saving a file would do once committed: the plan of the working tree (uncommitted edits included)
// against the commit in force, its instances where they run now. The same loader, computePlan and
// formatPlan as `ygg plan`; one schema validator for all of it (it takes half a second to build).
import type { ObservedState } from '../controller/observed-state.js';
import type { Model } from '../model/types.js';
import { computePlan, type DesiredState } from '../plan/compute-plan.js';
import { formatPlan } from '../plan/format-plan.js';
import { placeInstances, type Placement } from '../plan/place-instances.js';
import { formatFinding, type Finding } from '../repo/finding.js';
import { GitSource } from '../repo/git-source.js';
import { RepoLoader } from '../repo/load-repo.js';
import { createSchemaValidator } from '../repo/schema-validator.js';
import { WorkingTreeSource } from '../repo/working-tree-source.js';
import type { DevEvent } from './dev-events.js';

/** job → the hosts its assignments name now. */
export function observedPlacement(observed: ObservedState): Placement {
  const placement = new Map<string, string[]>();
  for (const [host, jobs] of observed.assignments) for (const job of jobs.keys()) placement.set(job, [...(placement.get(job) ?? []), host].sort());
  return placement;
}

export class FleetInvalidError extends Error {
  readonly code = 'E_DEV_FLEET_INVALID';
  constructor(
    readonly ref: string,
    readonly errors: readonly string[],
  ) {
    super(`${ref} does not validate (${errors.length} error(s)); fix it and commit:\n${errors.slice(0, 10).join('\n')}`);
    this.name = 'FleetInvalidError';
  }
}

export class WorkingCopyReader {
  private readonly validator = createSchemaValidator();
  // One loader each: their caches key files by different ids (blob oid, file stat).
  private readonly committed = new RepoLoader(this.validator);
  private readonly working = new RepoLoader(this.validator);
  private readonly git: GitSource;
  private readonly tree: WorkingTreeSource;

  constructor(repoDir: string) {
    this.git = new GitSource(repoDir);
    this.tree = new WorkingTreeSource(repoDir);
  }

  /** The fleet at a commit; FleetInvalidError when it does not validate. */
  async fleetAt(ref: string): Promise<Model> {
    const loaded = await this.committed.load(await this.git.snapshot(ref));
    if (!loaded.model) throw new FleetInvalidError(`${ref} of ${this.git.label}`, errorsOf(loaded.findings));
    return loaded.model;
  }

  /** HEAD's commit id, read afresh (a commit may have just landed). */
  head(): Promise<string> {
    return this.git.repository.resolveCommit('HEAD');
  }

  async planUncommitted(inForce: { readonly sha: string; readonly observed: ObservedState }): Promise<DevEvent> {
    const [base, head] = await Promise.all([this.committed.load(await this.git.snapshotOf(inForce.sha)), this.working.load(await this.tree.snapshot())]);
    if (!head.model || !head.index) {
      return { event: 'plan_invalid', errors: errorsOf(head.findings) };
    }
    const placement = observedPlacement(inForce.observed);
    const baseState: DesiredState | undefined = base.model && base.index ? { model: base.model, index: base.index, placement } : undefined;
    const plan = computePlan(baseState, { model: head.model, index: head.index, placement: placeInstances(head.model, head.index, placement) });
    return { event: 'plan', base: inForce.sha, text: formatPlan(plan, { base: inForce.sha, head: 'working tree' }, 'text'), empty: plan.actions.length === 0 };
  }
}

function errorsOf(findings: readonly Finding[]): string[] {
  return findings.filter((finding) => finding.severity === 'error').map(formatFinding);
}
