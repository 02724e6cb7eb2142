// The console has no login of its own: a value the plan would mask is masked here too. The repo
// holds it in plain text anyway, but a screen is easier to read over a shoulder than git.
import { isSecretEnv } from '../../model/secret-values.js';

export const MASKED_VALUE = '********';

export function maskEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, isSecretEnv(name, value) ? MASKED_VALUE : value]));
}
