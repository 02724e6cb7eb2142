// ygg dev: the whole fleet on this machine in one command (src/dev/ does the work).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createDevTerminal, type OutputMode } from '../../dev/dev-terminal.js';
import { runDev } from '../../dev/run-dev.js';
import { choice, positiveInteger, type Command } from '../command.js';
import { EXIT_OK, UsageError } from '../usage-error.js';
import { untilStopped } from '../service-options.js';

/** The example fleet shipped with ygg (this file is src/cli/commands/dev.ts or dist/cli/commands/dev.js). */
const EXAMPLE_REPO = fileURLToPath(new URL('../../../example-repo', import.meta.url));

/**
 * Once stopping, a second Ctrl-C must not kill ygg dev halfway (its children are in their own
 * process groups and would be left running); the stop is bounded by the stop timeouts.
 */
function holdFurtherSignals(signal: NodeJS.Signals): NodeJS.Signals {
  for (const name of ['SIGINT', 'SIGTERM'] as const) process.on(name, () => {});
  return signal;
}

type Values = { repo?: string; dir?: string; port?: string; secure?: boolean; output?: string };

export const devCommand: Command<Values> = {
  name: 'dev',
  summary: 'Run the whole fleet on this machine: etcd, the controller following a git working copy, one agent per host, the console (until Ctrl-C).',
  usage: 'dev [--repo DIR] [--dir .ygg] [--port N] [--secure] [--output text|json]',
  options: {
    repo: { type: 'string', short: 'r', valueName: 'DIR', description: "the fleet repo to start from (default: ygg's example-repo); copied into DIR/repo on the first run only" },
    dir: { type: 'string', valueName: 'DIR', description: 'where the run lives: repo/ (your working copy, kept), hosts/, keepalived/, logs/, etcd/ (default: .ygg)' },
    port: { type: 'string', valueName: 'N', description: 'the console and controller API port on 127.0.0.1 (default: a free one)' },
    secure: { type: 'boolean', description: "etcd with authentication on, as ygg etcd-setup makes it: each agent logs in as its host, credentials in DIR/credentials" },
    output: { type: 'string', short: 'o', valueName: 'FORMAT', description: 'text (default; a live view on a terminal) or json (one event per line)' },
  },
  details: [
    'Each host runs on the address its Host document gives it (127.0.0.x), as in production. Save a file in DIR/repo to',
    'see what it would do; commit to apply it. Ctrl-C stops the agents, their jobs, the controller and etcd. A second',
    'ygg dev in the same DIR is refused; the leftovers of one that was killed are stopped before a new run starts.',
  ].join('\n'),
  async run(values, _positionals, io) {
    const format = choice(values.output, 'output', ['text', 'json'], 'text');
    const port = positiveInteger(values.port, 'port');
    // A mistyped path is bad usage, refused before anything is made under --dir.
    if (values.repo !== undefined && !existsSync(values.repo)) throw new UsageError(`--repo ${values.repo} does not exist`);
    const mode: OutputMode = format === 'json' ? 'json' : process.stdout.isTTY ? 'tty' : 'plain';
    // The live view moves the cursor, which io (escaping every control character) would not let through.
    const terminal = createDevTerminal(mode, mode === 'tty' ? (chunk) => process.stdout.write(chunk) : (chunk) => io.stdout(chunk.replace(/\n$/, '')));
    // Its typed errors (already running, port taken, etcd missing, an invalid fleet) end it with their one line, exit 1.
    await runDev({ repo: values.repo ?? EXAMPLE_REPO, dir: values.dir ?? '.ygg', ...(port !== undefined ? { port } : {}), secure: values.secure === true, emit: (event) => terminal.emit(event), stopped: untilStopped().then(holdFurtherSignals) });
    return EXIT_OK;
  },
};
