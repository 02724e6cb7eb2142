import { fleetStatus } from '../../controller/fleet-status.js';
import { describeRollout } from '../../controller/rollout-text.js';
import { readRecentHistory } from '../../store/read-history.js';
import { withCluster } from '../cluster.js';
import { choice, type Command } from '../command.js';
import { ETCD_OPTIONS, type EtcdFlagValues } from '../etcd-options.js';
import { formatTable } from '../format-table.js';
import { OUTPUT_OPTION } from '../repo-options.js';
import { EXIT_FINDINGS, EXIT_OK } from '../usage-error.js';

export const statusCommand: Command<EtcdFlagValues & { output?: string }> = {
  name: 'status',
  summary: 'Show the commit in force, whether the fleet is in sync, per-job health and lost hosts.',
  usage: 'status [--etcd URL[,URL]] [--output text|json]',
  options: { ...ETCD_OPTIONS, ...OUTPUT_OPTION },
  details: 'Rolling and failed rollouts get a line each: batch, progress and deadline, or why they failed and what was reverted. Exit code: 0 when every job is Healthy or Progressing and nothing was rejected, 1 otherwise (a failed rollout leaves its job Degraded; also when etcd cannot be read).',
  async run(values, _positionals, io) {
    const output = choice(values.output, 'output', ['text', 'json'], 'text');
    const status = await withCluster(values, async ({ client, layout, mirror }) => fleetStatus(mirror.current(), mirror.observed(), await readRecentHistory(client, layout, 10)));
    const troubled = status.result === 'Rejected' || status.result === 'Unknown' || status.lostHosts.length > 0 || status.jobs.some((job) => job.state === 'Degraded' || job.state === 'Missing');
    if (output === 'json') {
      io.stdout(JSON.stringify(status, null, 2));
      return troubled ? EXIT_FINDINGS : EXIT_OK;
    }
    const commit = status.commit ? `${status.commit.sha.slice(0, 12)} "${status.commit.message}" by ${status.commit.author}, ${status.commit.time}` : '(none yet)';
    io.stdout(`Commit in force: ${commit}`);
    io.stdout(`Sync: ${status.result}`);
    if (status.rejected) {
      io.stdout(`Rejected: ${status.rejected.sha.slice(0, 12)} (${status.rejected.errors.length} error(s)):`);
      for (const error of status.rejected.errors.slice(0, 10)) io.stdout(`  ${error}`);
    }
    io.stdout('');
    const rows = status.jobs.map((job) => [job.name, job.state, `${job.healthy}/${job.desired}`, String(job.progressing), job.version]);
    io.stdout(rows.length ? formatTable(['JOB', 'STATE', 'HEALTHY', 'PENDING', 'VERSION'], rows) : 'No job is assigned.');
    const rollouts = status.jobs.flatMap((job) => {
      const line = describeRollout(job, Date.now());
      return line ? [[job.name, line]] : [];
    });
    if (rollouts.length) io.stdout(`\nRollouts:\n${formatTable(['JOB', 'ROLLOUT'], rollouts)}`);
    io.stdout('');
    io.stdout(`Lost hosts: ${status.lostHosts.length ? status.lostHosts.join(', ') : 'none'}`);
    if (status.history.length) {
      io.stdout('\nRecent reconciles:');
      for (const entry of status.history.slice(0, 5)) io.stdout(`  ${entry.time}  ${entry.sha.slice(0, 10)}  ${entry.outcome.padEnd(11)} ${String(entry.actions).padStart(5)} action(s)  ${entry.message}`);
    }
    return troubled ? EXIT_FINDINGS : EXIT_OK;
  },
};
