// Which values are secrets, for everything that shows a spec to people (the plan, the console):
// one answer everywhere, so a value masked in a PR comment is not shown in plain text on a page.
// A name is judged by the words people give secrets; masking one too many is the cheap mistake.

const SECRET_NAME = /(pass|secret|token|key|credential|private)/i;
const SECRET_REFERENCE = /\{\{~?\s*secret\b/;

/** An env name or config key that says its value is a secret (DB_PASSWORD, API_TOKEN, tls.key). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** A value that takes a secret from the store (`{{secret "db-password"}}`): its text is not shown either. */
export function mentionsSecret(value: string): boolean {
  return SECRET_REFERENCE.test(value);
}

/** An env entry worth masking: by its name, or because its value refers to a secret. */
export function isSecretEnv(name: string, value: string): boolean {
  return isSecretName(name) || mentionsSecret(value);
}
