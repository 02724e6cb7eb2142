import { describeChange, type DocumentChange } from '../../repo/document-changes.js';
import { GitSource } from '../../repo/git-source.js';
import { readRepoHistory } from '../../repo/repo-history.js';
import { SourceError } from '../../repo/source.js';
import { choice, positiveInteger, type Command } from '../command.js';
import { withCluster } from '../cluster.js';
import { ETCD_OPTIONS, type EtcdFlagValues } from '../etcd-options.js';
import { OUTPUT_OPTION, REPO_OPTION, repoPath } from '../repo-options.js';
import { readRecentHistory } from '../../store/read-history.js';
import { EXIT_OK, UsageError } from '../usage-error.js';

type Values = EtcdFlagValues & { repo?: string; ref?: string; job?: string; host?: string; limit?: string; output?: string };

const AUDIT_RECORDS_READ = 1000;

export const historyCommand: Command<Values> = {
  name: 'history',
  summary: 'Audit through git history: who changed which job or host, when, and what changed.',
  usage: 'history [--repo PATH] [--ref REF] [--job NAME] [--host NAME] [--limit N] [--etcd URL] [--output text|json]',
  options: {
    ...REPO_OPTION,
    ref: { type: 'string', valueName: 'REF', description: 'start from this commit (default: HEAD)' },
    job: { type: 'string', short: 'j', valueName: 'NAME', description: 'only commits that changed this job' },
    host: { type: 'string', valueName: 'NAME', description: 'only commits that changed this host or bound/unbound it in a tree node' },
    limit: { type: 'string', short: 'n', valueName: 'N', description: 'at most N commits (default: 20)' },
    ...ETCD_OPTIONS,
    ...OUTPUT_OPTION,
  },
  details: 'With --etcd, each commit also shows when the controller applied it and what it did (the sync/history audit records).',
  async run(values, _positionals, io) {
    const output = choice(values.output, 'output', ['text', 'json'], 'text');
    const limit = positiveInteger(values.limit, 'limit') ?? 20;
    const filter = { ...(values.job !== undefined ? { job: values.job } : {}), ...(values.host !== undefined ? { host: values.host } : {}) };
    const entries = [];
    try {
      const source = new GitSource(repoPath(values));
      for await (const entry of readRepoHistory(source, values.ref ?? 'HEAD', filter, limit)) entries.push(entry);
    } catch (error) {
      if (error instanceof SourceError) throw new UsageError(error.message);
      throw error;
    }
    const audits = values.etcd === undefined ? undefined : await withCluster(values, ({ client, layout }) => readRecentHistory(client, layout, AUDIT_RECORDS_READ));
    const appliedOf = (sha: string) => (audits ?? []).filter((record) => record.commit.sha === sha).sort((a, b) => (a.time < b.time ? -1 : 1));
    if (output === 'json') {
      io.stdout(JSON.stringify(entries.map(({ commit, changes }) => ({ ...commit, date: new Date(commit.timestamp * 1000).toISOString(), changes, ...(audits ? { applied: appliedOf(commit.sha) } : {}) })), null, 2));
      return EXIT_OK;
    }
    if (entries.length === 0) io.stderr('no commit changed that');
    for (const { commit, changes } of entries) {
      const date = new Date(commit.timestamp * 1000).toISOString().replace('T', ' ').slice(0, 16);
      io.stdout(`${commit.sha.slice(0, 10)}  ${date}  ${commit.author} <${commit.email}>  ${commit.message.split('\n')[0]}`);
      for (const line of summarizeChanges(changes)) io.stdout(`    ${line}`);
      for (const record of appliedOf(commit.sha)) {
        // A rejected commit's audit record says so: it was refused, not applied; a failed rollout's, that it was undone.
        const verb = record.outcome === 'Rejected' ? 'rejected' : record.outcome === 'RolloutFailed' ? 'rolled back' : 'applied';
        io.stdout(`    ${verb} ${record.time} (${record.trigger}): ${record.actions.length} action(s), ${record.outcome}${record.note ? ` — ${record.note}` : ''}`);
      }
    }
    if (audits && values.job === undefined && values.host === undefined) {
      const shown = new Set(entries.map((entry) => entry.commit.sha));
      const elsewhere = [...new Set(audits.map((record) => record.commit.sha))].filter((sha) => !shown.has(sha));
      if (elsewhere.length > 0) io.stdout(`\nApplied by the controller but not in the commits above (older, or force-pushed away): ${elsewhere.map((sha) => sha.slice(0, 10)).join(', ')}`);
    }
    return EXIT_OK;
  },
};

/** Modified documents one per line; added and removed ones grouped by kind, as a first commit adds hundreds. */
function summarizeChanges(changes: readonly DocumentChange[]): string[] {
  const lines = changes.filter((change) => change.change === 'modified').map(describeChange);
  const groups = new Map<string, string[]>();
  for (const change of changes) {
    if (change.change === 'modified') continue;
    const key = `${change.kind} ${change.change}`;
    groups.set(key, [...(groups.get(key) ?? []), change.name]);
  }
  for (const [key, names] of groups) {
    const shown = names.length > 6 ? `${names.slice(0, 6).join(', ')} and ${names.length - 6} more` : names.join(', ');
    lines.push(`${key}: ${shown}`);
  }
  return lines;
}
