// ygg: parse the subcommand, run it, map errors to exit codes. Commands stay thin.
import { formatHelp, parseCommandArgs, type Command, type CommandIo, type ParsedValues } from './command.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError } from './usage-error.js';

type LoadCommand = () => Promise<Command<ParsedValues>>;
const load = (module: Promise<Record<string, unknown>>, name: string): Promise<Command<ParsedValues>> => module.then((loaded) => loaded[name] as Command<ParsedValues>);

/**
 * Commands load on demand: the agent should not carry the loader, git and ajv in memory, and a
 * quick command should not pay for the others' modules.
 */
const COMMANDS: readonly (readonly [string, LoadCommand])[] = [
  ['validate', () => load(import('./commands/validate.js'), 'validateCommand')],
  ['plan', () => load(import('./commands/plan.js'), 'planCommand')],
  ['tree', () => load(import('./commands/tree.js'), 'treeCommand')],
  ['hosts', () => load(import('./commands/hosts.js'), 'hostsCommand')],
  ['history', () => load(import('./commands/history.js'), 'historyCommand')],
  ['controller', () => load(import('./commands/controller.js'), 'controllerCommand')],
  ['agent', () => load(import('./commands/agent.js'), 'agentCommand')],
  ['status', () => load(import('./commands/status.js'), 'statusCommand')],
  ['blame', () => load(import('./commands/blame.js'), 'blameCommand')],
  ['render', () => load(import('./commands/render.js'), 'renderCommand')],
  ['resolve', () => load(import('./commands/resolve.js'), 'resolveCommand')],
];

/** User mistakes found while running (an invalid repo, an unreachable cluster): one line, exit 1. */
const FINDING_CODES = new Set(['E_INVALID_REPO', 'E_TEMPLATE_RENDER', 'E_CLUSTER_UNAVAILABLE', 'E_AGENT_CONFLICT']);

const defaultIo: CommandIo = {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
};

async function mainHelp(): Promise<string> {
  const commands = await Promise.all(COMMANDS.map(([, loadCommand]) => loadCommand()));
  const width = Math.max(...commands.map((command) => command.name.length)) + 2;
  return [
    'Usage: ygg <command> [options]',
    '',
    'Yggdrasil: a GitOps control plane for fleets of hosts. A git repo of YAML is the source of truth.',
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}${command.summary}`),
    '',
    'Run "ygg <command> --help" for its options. Exit codes: 0 ok, 1 findings, 2 bad usage.',
  ].join('\n');
}

export async function main(argv: readonly string[], io: CommandIo = defaultIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(await mainHelp());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const loadCommand = COMMANDS.find(([candidate]) => candidate === name)?.[1];
  if (!loadCommand) {
    io.stderr(`ygg: unknown command "${name}"\n\n${await mainHelp()}`);
    return EXIT_USAGE;
  }
  const command = await loadCommand();
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
    if (FINDING_CODES.has((error as { code?: string }).code ?? '')) {
      io.stderr(`ygg ${command.name}: ${(error as Error).message}`);
      return EXIT_FINDINGS;
    }
    throw error;
  }
}
