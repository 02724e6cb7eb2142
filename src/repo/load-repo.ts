// The loader: snapshot → parse every YAML file (cached by path + blob id) → assemble the model →
// cross-check → locate findings. A snapshot with any error yields no model: it is rejected whole.
import { buildFleetIndex, type FleetIndex } from '../model/fleet-index.js';
import { DEFAULT_REPO_CONFIG, type Host, type Job, type Model, type RepoConfig, type Service, type TreeNode } from '../model/types.js';
import { checkModel } from './check-model.js';
import { checkRepoFiles } from './check-repo-files.js';
import { checkRepoRoot } from './check-repo-root.js';
import { compareFindings, hasErrors, type Finding, type PendingFinding } from './finding.js';
import { locateFindings } from './locate-findings.js';
import { parseFile, type LoadedDocument, type ParsedFile } from './parse-file.js';
import { parseInParallel, parseWorkerCount } from './parse-pool.js';
import type { DocumentValidator } from './schema-validator.js';
import { isYamlPath, type CommitInfo, type RepoFile, type RepoSnapshot } from './source.js';

export interface LoadResult {
  readonly commit?: CommitInfo;
  /** Present only when there is no error. */
  readonly model?: Model;
  readonly index?: FleetIndex;
  readonly findings: readonly Finding[];
  readonly stats: { readonly files: number; readonly parsed: number; readonly documents: number };
}

const REPO_CONFIG_FILE = 'ygg.yaml';

/** Keeps parsed files across loads, so a new commit costs only its changed blobs. */
export class RepoLoader {
  /** Path → the parse of the content it had last time. */
  private cache = new Map<string, { readonly id: string; readonly parsed: ParsedFile }>();

  constructor(private readonly validator: DocumentValidator) {}

  async load(snapshot: RepoSnapshot): Promise<LoadResult> {
    const yamlFiles: RepoFile[] = [];
    const missing: RepoFile[] = [];
    for (const file of snapshot.files) {
      if (!isYamlPath(file.path) || HIDDEN_PATH.test(file.path)) continue;
      yamlFiles.push(file);
      if (this.cache.get(file.path)?.id !== file.id) missing.push(file);
    }
    const parseLocally = async (file: RepoFile) => parseFile(file.path, await snapshot.readText(file), this.validator);
    const workers = snapshot.location ? parseWorkerCount(missing.length) : 0;
    const fresh = workers > 0 ? await parseInParallel({ location: snapshot.location!, files: missing }, workers, parseLocally) : await mapSequentially(missing, parseLocally);
    missing.forEach((file, index) => this.cache.set(file.path, { id: file.id, parsed: fresh[index]! }));
    const nextCache = new Map<string, { readonly id: string; readonly parsed: ParsedFile }>();
    const parsedFiles = yamlFiles.map((file) => {
      const entry = this.cache.get(file.path)!;
      nextCache.set(file.path, entry);
      return { file, parsed: entry.parsed };
    });
    const parsedCount = missing.length;
    // Only the files of the latest snapshot stay cached: memory stays bounded by one repo.
    this.cache = nextCache;

    const pending: PendingFinding[] = [];
    const located: Finding[] = [];
    for (const { file, parsed } of parsedFiles) {
      pending.push(...parsed.findings);
      if (parsed.syntaxError) {
        located.push({ code: 'E_YAML_SYNTAX', severity: 'error', file: file.path, ...parsed.syntaxError });
      }
    }
    const { model, problems } = assembleModel(parsedFiles.flatMap(({ file, parsed }) => parsed.documents.map((document) => ({ file: file.path, document }))));
    pending.push(...problems);
    const index = buildFleetIndex(model);
    const invalid = new Set(parsedFiles.flatMap(({ parsed }) => parsed.invalidDeclarations));
    pending.push(...checkModel(model, index, (kind, name) => invalid.has(`${kind}/${name}`)));
    pending.push(...(await checkRepoFiles(model, snapshot)));
    pending.push(...checkRepoRoot(parsedFiles));

    located.push(...(await locateAll(pending, snapshot)));
    located.sort(compareFindings);
    const documents = parsedFiles.reduce((sum, { parsed }) => sum + parsed.documents.length, 0);
    const stats = { files: yamlFiles.length, parsed: parsedCount, documents };
    const base = { ...(snapshot.commit ? { commit: snapshot.commit } : {}), findings: located, stats };
    return hasErrors(located) ? base : { ...base, model, index };
  }
}

/** Hidden folders and files (.git, .github, ...) are not part of the fleet. */
const HIDDEN_PATH = /(^|\/)\./;

/** Collects documents into the model; a second document with the same name is an error. */
function assembleModel(documents: readonly { file: string; document: LoadedDocument }[]): { model: Model; problems: PendingFinding[] } {
  const problems: PendingFinding[] = [];
  const hosts = new Map<string, Host>();
  const treeNodes = new Map<string, TreeNode>();
  const jobs = new Map<string, Job>();
  const services = new Map<string, Service>();
  let config: RepoConfig | undefined;
  const duplicate = (file: string, docIndex: number, path: string[], what: string, firstFile: string) =>
    problems.push({ code: 'E_DUPLICATE_NAME', severity: 'error', file, docIndex, path, message: `duplicate ${what}: already declared in ${firstFile}` });
  const add = <T extends { origin: { file: string } }>(map: Map<string, T>, key: string, value: T, file: string, docIndex: number, path: string[], what: string) => {
    const existing = map.get(key);
    if (existing) duplicate(file, docIndex, path, `${what} "${key}"`, existing.origin.file);
    else map.set(key, value);
  };
  let configFile: string | undefined;
  for (const { file, document } of documents) {
    const { docIndex } = document;
    switch (document.kind) {
      case 'Repo':
        if (file !== REPO_CONFIG_FILE) {
          problems.push({ code: 'E_REPO_CONFIG_PLACE', severity: 'error', file, docIndex, path: ['kind'], message: `the Repo document belongs in ${REPO_CONFIG_FILE} at the repo root` });
        } else if (configFile) {
          duplicate(file, docIndex, ['kind'], 'Repo document', configFile);
        } else {
          config = document.value;
          configFile = file;
        }
        break;
      case 'Host':
        add(hosts, document.value.name, document.value, file, docIndex, ['metadata', 'name'], 'host');
        break;
      case 'TreeNode':
        add(treeNodes, document.value.tag, document.value, file, docIndex, ['metadata', 'tag'], 'tree node');
        break;
      case 'Job':
        add(jobs, document.value.name, document.value, file, docIndex, ['metadata', 'name'], 'job');
        break;
      case 'Service':
        add(services, document.value.name, document.value, file, docIndex, ['metadata', 'name'], 'service');
        break;
    }
  }
  return { model: { config: config ?? DEFAULT_REPO_CONFIG, hosts, treeNodes, jobs, services }, problems };
}

async function locateAll(pending: readonly PendingFinding[], snapshot: RepoSnapshot): Promise<Finding[]> {
  const byFile = new Map<string, PendingFinding[]>();
  for (const finding of pending) {
    const list = byFile.get(finding.file);
    if (list) list.push(finding);
    else byFile.set(finding.file, [finding]);
  }
  const filesByPath = new Map(snapshot.files.map((file) => [file.path, file]));
  const located: Finding[] = [];
  for (const [path, findings] of byFile) {
    const file = filesByPath.get(path);
    const text = file ? await snapshot.readText(file) : '';
    located.push(...locateFindings(text, findings));
  }
  return located;
}

async function mapSequentially<T, R>(items: readonly T[], map: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (const item of items) results.push(await map(item));
  return results;
}
