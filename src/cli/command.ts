// The shape every subcommand shares, and flag parsing with help and clear errors.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closestMatch } from '../util/closest-match.js';
import { UsageError } from './usage-error.js';

type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & { readonly description: string; readonly valueName?: string };

export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export interface Command<Values> {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Positional arguments allowed (names, for help). */
  readonly positionals?: readonly string[];
  /** Said instead of echoing the argument when there are more positionals than these (it may be a secret). */
  readonly extraArgumentHint?: string;
  readonly details?: string;
  run(values: Values, positionals: readonly string[], io: CommandIo): Promise<number>;
}

export type ParsedValues = Record<string, string | boolean | string[] | undefined>;

export const HELP_OPTION = { help: { type: 'boolean', short: 'h', description: 'show this help' } } as const;

export function formatHelp(command: Command<ParsedValues>): string {
  const options: Record<string, OptionSpec> = { ...command.options, ...HELP_OPTION };
  const rows = Object.entries(options).map(([name, option]) => {
    const short = option.short ? `-${option.short}, ` : '    ';
    const value = option.type === 'string' ? ` ${option.valueName ?? 'VALUE'}` : '';
    return [`  ${short}--${name}${value}`, option.description] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  const lines = [`Usage: ygg ${command.usage}`, '', command.summary, '', 'Options:', ...rows.map(([flag, text]) => flag.padEnd(width) + text)];
  if (command.details) lines.push('', command.details);
  return lines.join('\n');
}

export function parseCommandArgs(command: Command<ParsedValues>, argv: readonly string[]): { values: ParsedValues; positionals: string[] } {
  const options = Object.fromEntries(
    Object.entries({ ...command.options, ...HELP_OPTION }).map(([name, option]) => {
      const { description: _description, valueName: _valueName, ...config } = option as OptionSpec;
      return [name, config];
    }),
  );
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    const allowed = command.positionals?.length ?? 0;
    if (!values.help && positionals.length > allowed) {
      throw new UsageError(command.extraArgumentHint ? `unexpected argument: ${command.extraArgumentHint}` : `unexpected argument "${positionals[allowed]}"`);
    }
    return { values: values as ParsedValues, positionals };
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // node:util's messages name the flag; drop its internal hints about "--" separators.
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(message.charAt(0).toLowerCase() + message.slice(1) + suggestOption(error, Object.keys(options)));
  }
}

/** "; did you mean --repo?" for `--rpeo`, from the options the command has. */
function suggestOption(error: unknown, names: readonly string[]): string {
  if ((error as { code?: string }).code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return '';
  const given = /'--([^'=]+)/.exec((error as Error).message)?.[1];
  const suggestion = given === undefined ? undefined : closestMatch(given, names);
  return suggestion ? `; did you mean --${suggestion}?` : '';
}

/** Reads a string flag restricted to a set of values. */
export function choice<T extends string>(value: unknown, flag: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got "${String(value)}"`);
}

export function positiveInteger(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new UsageError(`--${flag} must be a positive integer, got "${String(value)}"`);
  return number;
}
