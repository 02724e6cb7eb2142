// What saving a file in the working copy would do once committed: the plan of the working tree
// (uncommitted edits included) against the commit in force, its instances where they run now.
// The same computePlan and formatPlan as `ygg plan`.
import type { ObservedState } from '../controller/observed-state.js';
import { computePlan, type DesiredState } from '../plan/compute-plan.js';
import { formatPlan } from '../plan/format-plan.js';
import { placeInstances, type Placement } from '../plan/place-instances.js';
import { formatFinding } from '../repo/finding.js';
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

export class UncommittedPlanner {
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

  async plan(inForce: { readonly sha: string; readonly observed: ObservedState }): Promise<DevEvent> {
    const [base, head] = await Promise.all([this.committed.load(await this.git.snapshotOf(inForce.sha)), this.working.load(await this.tree.snapshot())]);
    if (!head.model || !head.index) {
      return { event: 'plan_invalid', errors: head.findings.filter((finding) => finding.severity === 'error').map(formatFinding) };
    }
    const placement = observedPlacement(inForce.observed);
    const baseState: DesiredState | undefined = base.model && base.index ? { model: base.model, index: base.index, placement } : undefined;
    const plan = computePlan(baseState, { model: head.model, index: head.index, placement: placeInstances(head.model, head.index, placement) });
    return { event: 'plan', base: inForce.sha, text: formatPlan(plan, { base: inForce.sha, head: 'working tree' }, 'text'), empty: plan.actions.length === 0 };
  }
}
