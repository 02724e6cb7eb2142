// The loader: snapshot → where the fleet lives (ygg.yaml) → sizes against the limits, before
// reading → parse every fleet YAML file (cached by path + blob id) → assemble the model →
// cross-check → locate findings. A snapshot with any error yields no model: it is rejected whole.
import { buildFleetIndex, type FleetIndex } from '../model/fleet-index.js';
import { DEFAULT_REPO_CONFIG, type Host, type Job, type Model, type RepoConfig, type Service, type TreeNode, type Zone } from '../model/types.js';
import { checkModel } from './check-model.js';
import { checkRepoFiles } from './check-repo-files.js';
import { checkRepoRoot } from './check-repo-root.js';
import { FileParser, type FileParserOptions, type FileToLocate } from './file-parser.js';
import { compareFindings, hasErrors, type Finding, type PendingFinding } from './finding.js';
import { findFleet } from './fleet-layout.js';
import type { LoadedDocument, ParsedFile } from './parse-file.js';
import { checkFleetSize } from './repo-limits.js';
import type { DocumentValidator } from './schema-validator.js';
import { REPO_CONFIG_FILE, type CommitInfo, type RepoFile, type RepoSnapshot } from './source.js';

export interface LoadResult {
  readonly commit?: CommitInfo;
  /** Present only when there is no error. */
  readonly model?: Model;
  readonly index?: FleetIndex;
  readonly findings: readonly Finding[];
  readonly stats: { readonly files: number; readonly parsed: number; readonly documents: number };
}

interface CacheEntry {
  readonly id: string;
  readonly size: number;
  readonly parsed?: ParsedFile;
}

/** Keeps parsed files across loads, so a new commit costs only its changed blobs. */
export class RepoLoader {
  /** Path → its size and the parse of the content it had last time. */
  private cache = new Map<string, CacheEntry>();
  /** The limits the cached parses were made under: a parse depends on them. */
  private cacheLimits = '';
  private readonly parser: FileParser;

  constructor(validator: DocumentValidator, options: FileParserOptions = {}) {
    this.parser = new FileParser(validator, options);
  }

  async load(snapshot: RepoSnapshot): Promise<LoadResult> {
    const result = (findings: Finding[], stats: LoadResult['stats'], rest: { model?: Model; index?: FleetIndex } = {}): LoadResult => {
      findings.sort(compareFindings);
      const base = { ...(snapshot.commit ? { commit: snapshot.commit } : {}), findings, stats };
      return hasErrors(findings) ? base : { ...base, ...rest };
    };
    const layout = await findFleet(snapshot, async (fleet, file, limits, size) => (await this.parser.parse(fleet, [file], [size], limits))[0]!);
    if (!('files' in layout)) {
      const located = [...layout.located, ...(await this.locateAll(layout.pending, layout.snapshot))];
      return result(atRoot(layout.root, located), { files: 0, parsed: 0, documents: 0 });
    }
    const { fleet, files, limits, root } = layout;
    const limitsKey = JSON.stringify(limits);
    if (limitsKey !== this.cacheLimits) this.cache = new Map();
    this.cacheLimits = limitsKey;

    // Unchanged files keep their size and parse; only new content is measured, then read.
    const entries = files.map((file): CacheEntry | undefined => {
      const cached = this.cache.get(file.path);
      return cached?.id === file.id ? cached : undefined;
    });
    const sizes = entries.map((entry) => entry?.size ?? 0);
    await Promise.all(entries.flatMap((entry, index) => (entry ? [] : [fleet.sizeOf(files[index]!).then((size) => (sizes[index] = size))])));
    const { refused, oversized } = checkFleetSize(files, sizes, limits);
    if (refused.length > 0) return result(atRoot(root, refused), { files: files.length, parsed: 0, documents: 0 });

    const nextCache = new Map<string, CacheEntry>();
    const missing: { file: RepoFile; size: number }[] = [];
    files.forEach((file, index) => {
      const entry = entries[index] ?? { id: file.id, size: sizes[index]! };
      nextCache.set(file.path, entry);
      if (!entry.parsed && !oversized.has(file.path)) missing.push({ file, size: entry.size });
    });
    const fresh = await this.parser.parse(fleet, missing.map(({ file }) => file), missing.map(({ size }) => size), limits);
    missing.forEach(({ file }, index) => nextCache.set(file.path, { ...nextCache.get(file.path)!, parsed: fresh[index]! }));
    // Only the files of the latest snapshot stay cached: memory stays bounded by one repo.
    this.cache = nextCache;
    const parsedFiles = files.flatMap((file) => {
      const parsed = nextCache.get(file.path)!.parsed;
      return parsed ? [{ file, parsed }] : [];
    });

    const pending: PendingFinding[] = [];
    const located: Finding[] = [...oversized.values()];
    for (const { file, parsed } of parsedFiles) {
      pending.push(...parsed.findings);
      if (parsed.fileError) located.push({ severity: 'error', file: file.path, ...parsed.fileError });
    }
    const { model, problems } = assembleModel(parsedFiles.flatMap(({ file, parsed }) => parsed.documents.map((document) => ({ file: file.path, document }))), displayPath(root));
    pending.push(...problems);
    const index = buildFleetIndex(model);
    const invalid = new Set(parsedFiles.flatMap(({ parsed }) => parsed.invalidDeclarations));
    pending.push(...checkModel(model, index, (kind, name) => invalid.has(`${kind}/${name}`)));
    pending.push(...(await checkRepoFiles(model, fleet)));
    pending.push(...checkRepoRoot(parsedFiles));
    located.push(...(await this.locateAll(pending, fleet)));

    const documents = parsedFiles.reduce((sum, { parsed }) => sum + parsed.documents.length, 0);
    return result(atRoot(root, located), { files: files.length, parsed: missing.length, documents }, { model, index });
  }

  /** Parse workers running now (the controller's loader starts them for large loads only). */
  get parseWorkers(): number {
    return this.parser.workers;
  }

  /** Stops the parse workers, if any. */
  close(): Promise<void> {
    return this.parser.close();
  }

  private async locateAll(pending: readonly PendingFinding[], snapshot: RepoSnapshot): Promise<Finding[]> {
    const byFile = new Map<string, PendingFinding[]>();
    for (const finding of pending) {
      const list = byFile.get(finding.file);
      if (list) list.push(finding);
      else byFile.set(finding.file, [finding]);
    }
    const filesByPath = new Map(snapshot.files.map((file) => [file.path, file]));
    const toLocate: FileToLocate[] = [];
    const located: Finding[] = [];
    for (const [path, findings] of byFile) {
      const file = filesByPath.get(path);
      const size = this.cache.get(path)?.size;
      if (file) toLocate.push({ file, findings, ...(size === undefined ? {} : { size }) });
      // A finding about a file that is not there (an absent ygg.yaml) points at its start.
      else located.push(...findings.map(({ code, severity, message }) => ({ code, severity, message, file: path, line: 1, col: 1 })));
    }
    return [...located, ...(await this.parser.locate(snapshot, toLocate))];
  }
}

/** A fleet path as the user sees it: under the fleet's folder when ygg.yaml points there. */
function displayPath(root: string | undefined): (file: string) => string {
  return (file) => (root === undefined ? file : `${root}/${file}`);
}

function atRoot(root: string | undefined, findings: readonly Finding[]): Finding[] {
  const display = displayPath(root);
  return findings.map((finding) => ({ ...finding, file: display(finding.file) }));
}

/** Collects documents into the model; a second document with the same name is an error. */
function assembleModel(documents: readonly { file: string; document: LoadedDocument }[], display: (file: string) => string): { model: Model; problems: PendingFinding[] } {
  const problems: PendingFinding[] = [];
  const hosts = new Map<string, Host>();
  const treeNodes = new Map<string, TreeNode>();
  const jobs = new Map<string, Job>();
  const services = new Map<string, Service>();
  const zones = new Map<string, Zone>();
  let config: RepoConfig | undefined;
  const duplicate = (file: string, docIndex: number, path: string[], what: string, firstFile: string) =>
    problems.push({ code: 'E_DUPLICATE_NAME', severity: 'error', file, docIndex, path, message: `duplicate ${what}: already declared in ${display(firstFile)}` });
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
          problems.push({ code: 'E_REPO_CONFIG_PLACE', severity: 'error', file, docIndex, path: ['kind'], message: `the Repo document belongs in ${display(REPO_CONFIG_FILE)}, at the fleet's root` });
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
      case 'Zone':
        add(zones, document.value.name, document.value, file, docIndex, ['metadata', 'name'], 'zone');
        break;
    }
  }
  return { model: { config: config ?? DEFAULT_REPO_CONFIG, hosts, treeNodes, jobs, services, zones }, problems };
}
