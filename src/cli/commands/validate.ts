import { formatFinding, formatGithubAnnotation, hasErrors } from '../../repo/finding.js';
import { choice, type Command } from '../command.js';
import { loadRepo, REF_OPTION, REPO_OPTION, repoPath } from '../repo-options.js';
import { EXIT_FINDINGS, EXIT_OK } from '../usage-error.js';

export const validateCommand: Command<{ repo?: string; ref?: string; output?: string; format?: string; strict?: boolean }> = {
  name: 'validate',
  summary: 'Check every YAML document of the repo: syntax, schema, references, port and VIP clashes, paths.',
  usage: 'validate [--repo PATH] [--ref REF] [--output text|json|github] [--strict]',
  options: {
    ...REPO_OPTION,
    ...REF_OPTION,
    output: { type: 'string', short: 'o', valueName: 'FORMAT', description: 'text (default), json, or github (Actions annotations)' },
    format: { type: 'string', valueName: 'FORMAT', description: 'same as --output' },
    strict: { type: 'boolean', description: 'fail on warnings too' },
  },
  details: 'Every problem is printed as FILE:LINE:COL: message. Exit code: 0 valid, 1 problems found, 2 bad usage.',
  async run(values, _positionals, io) {
    const output = choice(values.output ?? values.format, 'output', ['text', 'json', 'github'], 'text');
    const result = await loadRepo(repoPath(values), values.ref);
    const failed = hasErrors(result.findings) || (values.strict === true && result.findings.length > 0);
    if (output === 'json') {
      io.stdout(JSON.stringify({ valid: !failed, commit: result.commit?.sha ?? null, stats: result.stats, findings: result.findings }, null, 2));
    } else if (output === 'github') {
      for (const finding of result.findings) io.stdout(formatGithubAnnotation(finding));
    } else {
      for (const finding of result.findings) io.stdout(formatFinding(finding));
      const errors = result.findings.filter((finding) => finding.severity === 'error').length;
      const warnings = result.findings.length - errors;
      const where = result.commit ? ` at ${result.commit.sha.slice(0, 12)}` : '';
      io.stderr(`${repoPath(values)}${where}: ${result.stats.documents} documents in ${result.stats.files} files, ${errors} error(s), ${warnings} warning(s)`);
    }
    return failed ? EXIT_FINDINGS : EXIT_OK;
  },
};
