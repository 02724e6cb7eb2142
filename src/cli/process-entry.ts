// `ygg` as a process: bin/ygg.js (and the tests' run-from-source entry) call this and nothing else.
import { exitWhenFlushed, installLastResort } from './last-resort.js';
import { main, processIo } from './main.js';
import { terminalSafeIo } from './terminal-text.js';

export async function runYggProcess(argv: readonly string[]): Promise<never> {
  // `ygg status | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  const name = argv[0];
  installLastResort(name && /^[a-z]+$/.test(name) ? `ygg ${name}` : 'ygg', terminalSafeIo(processIo).stderr);
  const code = await main(argv);
  // The command is over when main returns: a handle left open (an etcd channel reconnecting, a
  // timer) must not keep a finished command, or one refused at start, running.
  return exitWhenFlushed(code);
}
