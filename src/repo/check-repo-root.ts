// A fleet repo says what it is: ygg.yaml at its root holds the Repo document. A folder without it
// (a mistyped --repo, a CI job checking the wrong path) must fail, not pass as an empty fleet.
import type { PendingFinding } from './finding.js';
import type { ParsedFile } from './parse-file.js';
import { REPO_CONFIG_FILE } from './source.js';

const REPO_DOCUMENT = 'a Repo document (apiVersion: ygg/v1, kind: Repo, spec: {})';

/** `files`: the fleet's YAML files as the loader read them. Findings sit at ygg.yaml, present or not. */
export function checkRepoRoot(files: readonly { readonly file: { readonly path: string }; readonly parsed: ParsedFile }[]): PendingFinding[] {
  const at = (code: string, message: string): PendingFinding[] => [{ code, severity: 'error', message, file: REPO_CONFIG_FILE, docIndex: 0, path: [] }];
  if (files.length === 0) {
    return at('E_NO_FLEET', `no YAML files here: a fleet repo has ${REPO_CONFIG_FILE} with ${REPO_DOCUMENT} at its root and the fleet's documents beside it; is this the fleet's folder?`);
  }
  const config = files.find(({ file }) => file.path === REPO_CONFIG_FILE);
  if (!config) {
    return at('E_NO_REPO_CONFIG', `no ${REPO_CONFIG_FILE} at the repo root: a fleet repo declares itself there with ${REPO_DOCUMENT}; is this the fleet's root folder?`);
  }
  const { parsed } = config;
  // A Repo document that failed to parse or validate is reported already.
  const reported = parsed.fileError !== undefined || parsed.findings.length > 0;
  if (reported || parsed.documents.some((document) => document.kind === 'Repo')) return [];
  return at('E_NO_REPO_CONFIG', `${REPO_CONFIG_FILE} holds no Repo document: put ${REPO_DOCUMENT} in it`);
}
