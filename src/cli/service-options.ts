// What the long-running commands (controller, agent, render) share: the log level, listen addresses
// as flags, and running until SIGINT/SIGTERM.
import { HttpServerError, parseListenAddress } from '../server/listen-address.js';
import { choice } from './command.js';
import { CommandFailedError, UsageError } from './usage-error.js';

export const LOG_LEVEL_OPTION = {
  'log-level': { type: 'string', valueName: 'LEVEL', description: 'debug, info (default), warn or error' },
} as const;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export function logLevel(values: { 'log-level'?: string }): LogLevel {
  return choice<LogLevel>(values['log-level'], 'log-level', ['debug', 'info', 'warn', 'error'], 'info');
}

/** `[HOST]:PORT` from a flag, a mistake in it being a usage error naming the flag. */
export function listenFlag(value: string | undefined, flag: string, fallback: string): { host: string; port: number } {
  try {
    return parseListenAddress(value ?? fallback);
  } catch (error) {
    throw new UsageError(`--${flag}: ${(error as Error).message}`);
  }
}

/** A failure to listen, with the flag that picks another address; any other error unchanged. */
export function withListenHint(error: unknown, flag: string): unknown {
  return error instanceof HttpServerError ? new CommandFailedError(`${error.message}; choose another address with --${flag}`, { cause: error }) : error;
}

/** Resolves at the first SIGINT or SIGTERM: a service's cue to stop cleanly. */
export function untilStopped(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal));
  });
}
