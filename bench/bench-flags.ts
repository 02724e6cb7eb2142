// The flags of the bench scripts users run (`npm run bench:fleet`, `npm run bench:fanout`): an unknown
// flag or a count that is not a number gets one line and exit 2, as the ygg CLI's mistakes do, not a
// stack trace (or NaN hosts a minute later).
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>['values'];

export function benchFlags<const O extends Options>(script: string, options: O, numeric: readonly (keyof O & string)[]): Values<O> {
  const fail = (message: string): never => {
    console.error(`${script}: ${message}; the flags are listed at the top of bench/${script}.ts`);
    process.exit(2);
  };
  let values: Values<O>;
  try {
    values = parseArgs({ options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    return fail((error as Error).message);
  }
  for (const name of numeric) {
    const text = (values as Record<string, unknown>)[name];
    if (text !== undefined && !/^\d+(\.\d+)?$/.test(String(text))) fail(`--${name} takes a number, not "${String(text)}"`);
  }
  return values;
}
