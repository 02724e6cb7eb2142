// ygg: parse the subcommand, run it, map errors to exit codes. Commands stay thin.
import { formatHelp, parseCommandArgs, type Command, type CommandIo, type ParsedValues } from './command.js';
import { agentCommand } from './commands/agent.js';
import { blameCommand } from './commands/blame.js';
import { controllerCommand } from './commands/controller.js';
import { hostsCommand } from './commands/hosts.js';
import { historyCommand } from './commands/history.js';
import { planCommand } from './commands/plan.js';
import { statusCommand } from './commands/status.js';
import { treeCommand } from './commands/tree.js';
import { validateCommand } from './commands/validate.js';
import { TemplateRenderError } from '../plan/render-instance.js';
import { ClusterUnavailableError } from './cluster.js';
import { InvalidRepoError } from './require-model.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError } from './usage-error.js';

const COMMANDS = [validateCommand, planCommand, treeCommand, hostsCommand, historyCommand, controllerCommand, agentCommand, statusCommand, blameCommand] as unknown as readonly Command<ParsedValues>[];

const defaultIo: CommandIo = {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
};

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length)) + 2;
  return [
    'Usage: ygg <command> [options]',
    '',
    'Yggdrasil: a GitOps control plane for fleets of hosts. A git repo of YAML is the source of truth.',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}${command.summary}`),
    '',
    'Run "ygg <command> --help" for its options. Exit codes: 0 ok, 1 findings, 2 bad usage.',
  ].join('\n');
}

export async function main(argv: readonly string[], io: CommandIo = defaultIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(mainHelp());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    io.stderr(`ygg: unknown command "${name}"\n\n${mainHelp()}`);
    return EXIT_USAGE;
  }
  try {
    const { values, positionals } = parseCommandArgs(command, rest);
    if (values.help) {
      io.stdout(formatHelp(command));
      return EXIT_OK;
    }
    return await command.run(values, positionals, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`ygg ${command.name}: ${error.message}\nUsage: ygg ${command.usage}\nRun "ygg ${command.name} --help" for details.`);
      return EXIT_USAGE;
    }
    if (error instanceof InvalidRepoError || error instanceof TemplateRenderError || error instanceof ClusterUnavailableError) {
      io.stderr(`ygg ${command.name}: ${error.message}`);
      return EXIT_FINDINGS;
    }
    throw error;
  }
}
