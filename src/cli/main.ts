// ygg: parse the subcommand, run it, map errors to exit codes. Commands stay thin.
import { closestMatch } from '../util/closest-match.js';
import { formatHelp, parseCommandArgs, type Command, type CommandIo, type ParsedValues } from './command.js';
import { debugStack, describeFailure } from './describe-failure.js';
import { packageVersion } from './package-version.js';
import { terminalSafeIo } from './terminal-text.js';
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
  ['dev', () => load(import('./commands/dev.js'), 'devCommand')],
  ['etcd-setup', () => load(import('./commands/etcd-setup.js'), 'etcdSetupCommand')],
  ['secret', () => load(import('./commands/secret.js'), 'secretCommand')],
];

const HELP_WORDS = ['help', '--help', '-h'];
const VERSION_WORDS = ['version', '--version'];

export const processIo: CommandIo = {
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
    'Run "ygg <command> --help" for its options, "ygg --version" for the version.',
    'Exit codes: 0 ok, 1 findings or a failure to fix (the line says what), 2 bad usage.',
  ].join('\n');
}

/** Everything printed goes through terminalSafe: much of it came from git, etcd or the command line. */
export async function main(argv: readonly string[], io: CommandIo = processIo): Promise<number> {
  const out = terminalSafeIo(io);
  const [name, ...rest] = argv;
  if (name === undefined || HELP_WORDS.includes(name)) {
    out.stdout(await mainHelp());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (VERSION_WORDS.includes(name)) {
    out.stdout(`ygg ${packageVersion()}`);
    return EXIT_OK;
  }
  const loadCommand = COMMANDS.find(([candidate]) => candidate === name)?.[1];
  if (!loadCommand) {
    const suggestion = closestMatch(name, [...COMMANDS.map(([command]) => command), ...HELP_WORDS.slice(0, 1), ...VERSION_WORDS]);
    out.stderr(`ygg: unknown command "${name}"${suggestion ? `; did you mean "${suggestion}"?` : ''}\nRun "ygg --help" for the list of commands.`);
    return EXIT_USAGE;
  }
  const command = await loadCommand();
  try {
    const { values, positionals } = parseCommandArgs(command, rest);
    if (values.help) {
      out.stdout(formatHelp(command));
      return EXIT_OK;
    }
    return await command.run(values, positionals, out);
  } catch (error) {
    return reportFailure(command, error, out);
  }
}

/** The one line a failed command ends with (and the stack trace too with YGG_DEBUG=1). */
function reportFailure(command: Command<ParsedValues>, error: unknown, out: CommandIo): number {
  if (error instanceof UsageError) {
    out.stderr(`ygg ${command.name}: ${error.message}\nUsage: ygg ${command.usage}\nRun "ygg ${command.name} --help" for details.`);
    return EXIT_USAGE;
  }
  out.stderr(`ygg ${command.name}: ${describeFailure(error)}`);
  const stack = debugStack(error);
  if (stack) out.stderr(stack);
  return EXIT_FINDINGS;
}
