import { GitSource } from '../../repo/git-source.js';
import { SourceError, type CommitInfo } from '../../repo/source.js';
import { withCluster } from '../cluster.js';
import { choice, type Command } from '../command.js';
import { ETCD_OPTIONS, type EtcdFlagValues } from '../etcd-options.js';
import { OUTPUT_OPTION } from '../repo-options.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError } from '../usage-error.js';

export const blameCommand: Command<EtcdFlagValues & { repo?: string; output?: string }> = {
  name: 'blame',
  summary: 'Which commit (author, message) put the spec running on HOST/JOB there, and what runs now.',
  usage: 'blame HOST/JOB [--etcd URL[,URL]] [--repo PATH] [--output text|json]',
  positionals: ['HOST/JOB'],
  options: {
    ...ETCD_OPTIONS,
    repo: { type: 'string', short: 'r', valueName: 'PATH', description: "the fleet repository, to show the commit's author and message" },
    ...OUTPUT_OPTION,
  },
  details: 'Exit code: 0 found, 1 nothing is assigned there (or etcd cannot be read), 2 bad usage.',
  async run(values, positionals, io) {
    const output = choice(values.output, 'output', ['text', 'json'], 'text');
    const target = positionals[0];
    const match = target === undefined ? null : /^([^/]+)\/([^/]+)$/.exec(target);
    if (!match) throw new UsageError('expected HOST/JOB, e.g. lg-im-01/alias-job-dispatcher');
    const [, host, job] = match as unknown as [string, string, string];
    const found = await withCluster(values, async ({ mirror }) => {
      const observed = mirror.observed();
      return { assignment: observed.assignments.get(host)?.get(job), status: observed.statuses.get(host)?.get(job) };
    });
    if (!found.assignment) {
      io.stderr(`nothing is assigned to ${host}/${job}`);
      return EXIT_FINDINGS;
    }
    const { record, intact } = found.assignment;
    let commit: CommitInfo | undefined;
    if (values.repo) {
      try {
        const git = new GitSource(values.repo);
        commit = await git.repository.readCommit(record.commit);
      } catch (error) {
        if (!(error instanceof SourceError) && (error as { code?: string }).code !== 'NotFoundError') throw error;
        io.stderr(`note: commit ${record.commit.slice(0, 12)} is not in ${values.repo}`);
      }
    }
    const report = {
      host,
      job,
      version: record.spec.version,
      specHash: record.specHash,
      intact,
      commit: record.commit,
      ...(commit ? { author: commit.author, email: commit.email, date: new Date(commit.timestamp * 1000).toISOString(), message: commit.message } : {}),
      assignedAt: record.assignedAt,
      previous: record.previous ? { specHash: record.previous.specHash, commit: record.previous.commit, version: record.previous.spec.version } : null,
      running: found.status ? { state: found.status.state, specHash: found.status.specHash, pid: found.status.pid ?? null, since: found.status.since, restarts: found.status.restarts } : null,
    };
    if (output === 'json') {
      io.stdout(JSON.stringify(report, null, 2));
      return EXIT_OK;
    }
    io.stdout(`${host}/${job}: version ${report.version}, spec ${report.specHash.slice(0, 12)}${intact ? '' : ' (edited by hand: the controller will restore it)'}`);
    io.stdout(`  put there by commit ${record.commit}${commit ? `\n  author  ${commit.author} <${commit.email}>, ${report.date}\n  message ${commit.message.split('\n')[0]}` : ''}`);
    io.stdout(`  assigned at ${record.assignedAt}`);
    if (report.previous) io.stdout(`  replaced spec ${report.previous.specHash.slice(0, 12)} (version ${report.previous.version}) from commit ${report.previous.commit.slice(0, 12)}`);
    io.stdout(report.running ? `  running: ${report.running.state}, spec ${report.running.specHash.slice(0, 12)}${report.running.specHash === record.specHash ? '' : ' (not the assigned one yet)'}, since ${report.running.since}, ${report.running.restarts} restart(s)` : '  running: no status reported by the agent');
    return EXIT_OK;
  },
};
