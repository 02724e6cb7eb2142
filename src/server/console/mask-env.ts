// The console has no login of its own: a value whose name says it is a secret is shown masked.
// The repo holds it in plain text anyway, but a screen is easier to read over a shoulder than git.

const SECRET_NAME = /(secret|passw(or)?d|token|credential|private|api[-_]?key|access[-_]?key)/i;

export const MASKED_VALUE = '********';

export function maskEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, SECRET_NAME.test(name) ? MASKED_VALUE : value]));
}
