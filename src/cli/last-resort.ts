// The handlers of last resort: an error nothing caught (a throw in a callback, a rejected promise no one
// awaited) ends the process with exit 1 and one line, instead of a stack trace, or a service that
// limps on with a part of it dead.
import type { Logger } from 'pino';
import { debugStack, describeFailure } from './describe-failure.js';
import { EXIT_FINDINGS } from './usage-error.js';

let serviceLogger: Logger | undefined;

/** A long-running command's logger: its crash is then one JSON line of its log, like all it says. */
export function logCrashesTo(logger: Logger): void {
  serviceLogger = logger;
}

/** `label` is what the line starts with, e.g. "ygg status". */
export function installLastResort(label: string, stderr: (text: string) => void): void {
  let crashed = false;
  const crash = (event: 'uncaught_exception' | 'unhandled_rejection') => (error: unknown) => {
    // The first error is the one to read; what breaks while the process winds down only adds noise.
    if (crashed) return;
    crashed = true;
    if (serviceLogger) {
      serviceLogger.fatal({ event, err: error }, `${describeFailure(error)}; exiting`);
    } else {
      stderr(`${label}: ${describeFailure(error)}`);
      const stack = debugStack(error);
      if (stack) stderr(stack);
    }
    void exitWhenFlushed(EXIT_FINDINGS);
  };
  process.on('uncaughtException', crash('uncaught_exception'));
  process.on('unhandledRejection', crash('unhandled_rejection'));
}

/**
 * process.exit drops what is still queued for a pipe (`ygg status | less` would lose the tail), so
 * wait until stdout and stderr took everything written so far.
 */
export async function exitWhenFlushed(code: number): Promise<never> {
  const flushed = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', () => resolve())));
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}
