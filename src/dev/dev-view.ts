// Dev events as text for people: one line each, and a job's progress as a bar. Pure.
import type { DevEvent, JobProgress } from './dev-events.js';

const BAR_WIDTH = 20;

export function progressBar(done: number, total: number, width = BAR_WIDTH): string {
  const filled = total === 0 ? width : Math.round((Math.min(done, total) / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** The bar follows the rollout (instances on the new spec) while there is one, else health. */
export function progressLine(progress: JobProgress, nameWidth = 0): string {
  const { rollout } = progress;
  const rolled = rollout?.done !== undefined && rollout.total !== undefined ? { done: rollout.done, total: rollout.total } : undefined;
  const bar = rolled ? progressBar(rolled.done, rolled.total) : progressBar(progress.healthy, progress.desired);
  const batch = rollout?.batch !== undefined && rollout.batches !== undefined ? `, batch ${rollout.batch}/${rollout.batches}` : '';
  const detail = !rollout
    ? ''
    : rollout.state === 'Failed'
      ? `  rollout of ${short(rollout.commit)} failed: ${rollout.reason ?? 'unknown reason'}`
      : `  rolling out ${short(rollout.commit)}${rolled ? `: ${rolled.done}/${rolled.total} on the new spec` : ''}${batch}`;
  return `${progress.job.padEnd(nameWidth)}  ${bar} ${progress.healthy}/${progress.desired} healthy  ${progress.state}  ${progress.version}${detail}`;
}

export function short(sha: string): string {
  return sha.slice(0, 7);
}

/** The event as lines of text (none for events only a live view shows). */
export function describeEvent(event: DevEvent): string[] {
  switch (event.event) {
    case 'starting':
      return [`ygg dev: ${event.created ? 'created' : 'using'} ${event.repo} (${event.created ? 'a git copy of the fleet' : 'your edits kept'}); run files in ${event.dir}`];
    case 'recovered':
      return [`recovered from a run that did not stop cleanly (pid ${event.pid}): stopped ${event.processes} process(es) and ${event.jobs} job(s) it left`];
    case 'warning':
      return [`warning: ${event.message}`];
    case 'started':
      return [`${event.what}: ${event.detail}`];
    case 'job':
      return [progressLine(event.progress)];
    case 'commit_applied':
      return [`commit ${short(event.sha)} applied: ${event.message}`];
    case 'commit_rejected':
      return [`commit ${short(event.sha)} rejected: ${event.errors[0] ?? 'no reason given'}${event.errors.length > 1 ? ` (and ${event.errors.length - 1} more)` : ''}`];
    case 'plan':
      return event.empty ? [`no uncommitted change (against ${short(event.base)}, the commit in force)`] : [`uncommitted change would (against ${short(event.base)}, the commit in force):`, ...indent(event.text)];
    case 'plan_invalid':
      return [`uncommitted change is invalid (${event.errors.length} error(s)); a commit of it would be rejected:`, ...indent(event.errors.slice(0, 10).join('\n'))];
    case 'converged':
      return [
        `every job healthy (${event.jobs} jobs) in ${event.seconds.toFixed(1)} s`,
        `  console:    ${event.consoleUrl}`,
        `  etcd:       ${event.etcdUrl}   (ygg status --etcd ${event.etcdUrl}${event.etcdCredentials ? ` --etcd-credentials ${event.etcdCredentials}` : ''})`,
        ...Object.entries(event.paths).map(([name, value]) => `  ${`${name}:`.padEnd(11)} ${value}`),
        '  edit and commit in the repo to deploy; Ctrl-C stops everything',
      ];
    case 'settled':
      return [`every job healthy again (${event.jobs} jobs) on ${short(event.commit)}`];
    case 'exited':
      return [`${event.name} exited (${event.code}); see ${event.logFile}`];
    case 'stopping':
      return [`stopping (${event.reason}) …`];
    case 'stopped':
      return [`stopped ${event.processes} process(es) and ${event.jobs} job(s); nothing left running`];
  }
}

function indent(text: string): string[] {
  return text.split('\n').map((line) => `  ${line}`);
}
