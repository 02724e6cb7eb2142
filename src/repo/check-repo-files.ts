// Files a job takes from the repo (artifact, dependency sources) must exist and match their sha256.
import type { DocumentOrigin, Model } from '../model/types.js';
import type { DocumentPath, PendingFinding } from './finding.js';
import type { RepoSnapshot } from './source.js';

interface FileReference {
  readonly origin: DocumentOrigin;
  readonly path: DocumentPath;
}

export async function checkRepoFiles(model: Model, snapshot: RepoSnapshot): Promise<PendingFinding[]> {
  // Thousands of jobs name the same few files: group the references by (file, digest) first.
  const groups = new Map<string, { repoPath: string; sha256: string; references: FileReference[] }>();
  const refer = (repoPath: string, sha256: string, reference: FileReference) => {
    const key = `${repoPath}\0${sha256}`;
    const group = groups.get(key);
    if (group) group.references.push(reference);
    else groups.set(key, { repoPath, sha256, references: [reference] });
  };
  for (const job of model.jobs.values()) {
    const { artifact, dependencies } = job.spec;
    if (artifact.path !== undefined) refer(artifact.path, artifact.sha256, { origin: job.origin, path: ['spec', 'artifact', 'path'] });
    dependencies.forEach((dependency, index) => {
      if (dependency.source !== undefined) refer(dependency.source, dependency.sha256, { origin: job.origin, path: ['spec', 'dependencies', index, 'source'] });
    });
  }
  if (groups.size === 0) return [];
  const filesByPath = new Map(snapshot.files.map((file) => [file.path, file]));
  const findings: PendingFinding[] = [];
  const report = (references: readonly FileReference[], code: string, message: string, atDigest: boolean) => {
    for (const { origin, path } of references) {
      const at = atDigest ? [...path.slice(0, -1), 'sha256'] : path;
      findings.push({ code, severity: 'error', message, file: origin.file, docIndex: origin.docIndex, path: at });
    }
  };
  await Promise.all(
    [...groups.values()].map(async ({ repoPath, sha256, references }) => {
      const file = filesByPath.get(repoPath);
      if (!file) return report(references, 'E_REF_FILE', `file "${repoPath}" does not exist in the repo`, false);
      const actual = await snapshot.sha256(file);
      if (actual !== sha256) report(references, 'E_SHA256', `sha256 of ${repoPath} is ${actual}, not ${sha256}`, true);
    }),
  );
  return findings;
}
