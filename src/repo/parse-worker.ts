// A parse worker: reads the files of a request from the snapshot's location itself, then parses them,
// or locates the findings the main thread made in them (the slower `yaml` parse that keeps positions).
import { parentPort } from 'node:worker_threads';
import { GitRepository } from './git-repository.js';
import { locateFindings } from './locate-findings.js';
import { parseFile } from './parse-file.js';
import type { ParseReply, ParseRequest } from './parse-pool.js';
import { createSchemaValidator } from './schema-validator.js';
import type { RepoFile, SnapshotLocation } from './source.js';
import { readWorkingTreeText } from './working-tree-source.js';

const validator = createSchemaValidator();
const decoder = new TextDecoder();
const repositories = new Map<string, GitRepository>();

function textReader(location: SnapshotLocation): (file: RepoFile) => Promise<string> {
  if (location.kind === 'tree') return (file) => readWorkingTreeText(location.dir, file);
  let repository = repositories.get(location.dir);
  if (!repository) {
    repository = new GitRepository(location.dir);
    repositories.set(location.dir, repository);
  }
  // Objects written since the last request (a fetch, a commit) must be found.
  repository.refresh();
  const reader = repository;
  return async (file) => decoder.decode(await reader.readBlob(file.id));
}

async function handle(request: ParseRequest): Promise<ParseReply> {
  const readText = textReader(request.location);
  if (request.kind === 'parse') {
    const parsed = [];
    for (const file of request.files) parsed.push(parseFile(file.path, await readText(file), validator, request.limits));
    return { parsed };
  }
  const located = [];
  for (const { file, findings } of request.files) located.push(locateFindings(await readText(file), findings));
  return { located };
}

parentPort!.on('message', (request: ParseRequest) => {
  handle(request).then(
    (reply) => parentPort!.postMessage(reply),
    (error: Error) => parentPort!.postMessage({ error: error.message }),
  );
});
