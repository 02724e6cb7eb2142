// Files a job takes from the repo (artifact, dependency sources) must exist and match their sha256.
import type { Model } from '../model/types.js';
import type { PendingFinding } from './finding.js';
import type { RepoSnapshot } from './source.js';

export async function checkRepoFiles(model: Model, snapshot: RepoSnapshot): Promise<PendingFinding[]> {
  const filesByPath = new Map(snapshot.files.map((file) => [file.path, file]));
  const digests = new Map<string, Promise<string>>();
  const findings: PendingFinding[] = [];
  const check = async (origin: { file: string; docIndex: number }, path: (string | number)[], repoPath: string, sha256: string) => {
    const file = filesByPath.get(repoPath);
    const at = { severity: 'error' as const, file: origin.file, docIndex: origin.docIndex };
    if (!file) {
      findings.push({ ...at, code: 'E_REF_FILE', path, message: `file "${repoPath}" does not exist in the repo` });
      return;
    }
    // Many jobs share one artifact: hash each blob once.
    let digest = digests.get(file.id);
    if (!digest) {
      digest = snapshot.sha256(file);
      digests.set(file.id, digest);
    }
    const actual = await digest;
    if (actual !== sha256) {
      findings.push({ ...at, code: 'E_SHA256', path: [...path.slice(0, -1), 'sha256'], message: `sha256 of ${repoPath} is ${actual}, not ${sha256}` });
    }
  };
  const checks: Promise<void>[] = [];
  for (const job of model.jobs.values()) {
    const { artifact, dependencies } = job.spec;
    if (artifact.path !== undefined) checks.push(check(job.origin, ['spec', 'artifact', 'path'], artifact.path, artifact.sha256));
    dependencies.forEach((dependency, index) => {
      if (dependency.source !== undefined) checks.push(check(job.origin, ['spec', 'dependencies', index, 'source'], dependency.source, dependency.sha256));
    });
  }
  await Promise.all(checks);
  return findings;
}
