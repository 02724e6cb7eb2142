// The version ygg reports (`ygg --version`, agents' records): package.json's, read where it is
// installed. src/cli/ and dist/cli/ both sit two levels below it.
import { readFileSync } from 'node:fs';

let version: string | undefined;

export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}
