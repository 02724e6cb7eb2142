// A parse worker: opens the snapshot's location itself and parses the files it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { GitRepository } from './git-repository.js';
import { parseFile } from './parse-file.js';
import { createSchemaValidator } from './schema-validator.js';
import type { RepoFile, SnapshotLocation } from './source.js';
import { readWorkingTreeText } from './working-tree-source.js';

const { location } = workerData as { location: SnapshotLocation };
const validator = createSchemaValidator();
const decoder = new TextDecoder();
const repository = location.kind === 'git' ? new GitRepository(location.dir) : undefined;
const readText = (file: RepoFile): Promise<string> =>
  repository ? repository.readBlob(file.id).then((bytes) => decoder.decode(bytes)) : readWorkingTreeText(location.dir, file);

parentPort!.on('message', async (files: RepoFile[]) => {
  const parsed = [];
  for (const file of files) parsed.push(parseFile(file.path, await readText(file), validator));
  parentPort!.postMessage({ parsed });
});
parentPort!.postMessage({ ready: true });
