// Where the fleet lives in a snapshot. A repository that holds more than its fleet (a project with
// its own code and test data) says so in a top-level ygg.yaml whose only setting is `spec.root`: the
// folder the fleet lives in, with its own ygg.yaml, and every path in it relative to it. The fleet's
// ygg.yaml then says which of its files are fleet YAML (`paths`, `ignore`) and the limits of loading.
import type { RepoConfig } from '../model/types.js';
import type { Finding, PendingFinding } from './finding.js';
import type { LoadedDocument, ParsedFile } from './parse-file.js';
import { globMatcher } from './path-glob.js';
import { applyLimits, checkFleetSize, DEFAULT_REPO_LIMITS, type AppliedLimits } from './repo-limits.js';
import { isYamlPath, REPO_CONFIG_FILE, type RepoFile, type RepoSnapshot } from './source.js';

export interface FleetLayout {
  /** The fleet's folder in the snapshot, when a top-level ygg.yaml points there. */
  readonly root?: string;
  /** The fleet's files, with paths relative to its folder. */
  readonly fleet: RepoSnapshot;
  /** The fleet YAML files, before any limit. */
  readonly files: readonly RepoFile[];
  readonly limits: AppliedLimits;
}

/** ygg.yaml could not be read: these are the only findings (which files are the fleet is unknown). */
export interface LayoutProblems {
  readonly root?: string;
  readonly snapshot: RepoSnapshot;
  readonly located: readonly Finding[];
  readonly pending: readonly PendingFinding[];
}

/** Parses one file of `size` bytes under the given limits (on whichever thread the loader parses). */
export type ParseOne = (snapshot: RepoSnapshot, file: RepoFile, limits: AppliedLimits, size: number) => Promise<ParsedFile>;

/** Hidden folders and files (.git, .github, ...) are not part of the fleet. */
const HIDDEN_PATH = /(^|\/)\./;

/** The files of `folder`, with paths relative to it; workers read a working tree from the folder too. */
export function subfolderSnapshot(snapshot: RepoSnapshot, folder: string): RepoSnapshot {
  const prefix = `${folder}/`;
  const outer = (file: RepoFile): RepoFile => ({ ...file, path: prefix + file.path });
  const location = snapshot.location?.kind === 'tree' ? { kind: 'tree' as const, dir: `${snapshot.location.dir}/${folder}` } : snapshot.location;
  return {
    ...(location ? { location } : {}),
    ...(snapshot.commit ? { commit: snapshot.commit } : {}),
    files: snapshot.files.filter((file) => file.path.startsWith(prefix)).map((file) => ({ ...file, path: file.path.slice(prefix.length) })),
    readText: (file) => snapshot.readText(outer(file)),
    readBytes: (file) => snapshot.readBytes(outer(file)),
    sizeOf: (file) => snapshot.sizeOf(outer(file)),
    sha256: (file) => snapshot.sha256(outer(file)),
  };
}

type RepoDocument = Extract<LoadedDocument, { kind: 'Repo' }>;
type ConfigRead = { repo?: RepoDocument; parsed: ParsedFile; file: RepoFile } | { problems: Omit<LayoutProblems, 'snapshot' | 'root'> };

/** Reads a ygg.yaml: size first (under the default limit: its own limits are not known yet), then parse. */
async function readConfig(snapshot: RepoSnapshot, parseOne: ParseOne): Promise<ConfigRead | undefined> {
  const file = snapshot.files.find((candidate) => candidate.path === REPO_CONFIG_FILE);
  if (!file) return undefined;
  const limits = applyLimits(DEFAULT_REPO_LIMITS, REPO_CONFIG_FILE);
  const size = await snapshot.sizeOf(file);
  const { oversized } = checkFleetSize([file], [size], limits);
  if (oversized.size > 0) return { problems: { located: [...oversized.values()], pending: [] } };
  const parsed = await parseOne(snapshot, file, limits, size);
  const located = parsed.fileError ? [{ severity: 'error' as const, file: file.path, ...parsed.fileError }] : [];
  if (located.length > 0 || parsed.findings.some((finding) => finding.severity === 'error')) return { problems: { located, pending: parsed.findings } };
  const repo = parsed.documents.find((document): document is RepoDocument => document.kind === 'Repo');
  return { ...(repo ? { repo } : {}), parsed, file };
}

export async function findFleet(snapshot: RepoSnapshot, parseOne: ParseOne): Promise<FleetLayout | LayoutProblems> {
  const top = await readConfig(snapshot, parseOne);
  if (top && 'problems' in top) return { snapshot, ...top.problems };
  let fleet = snapshot;
  let config: RepoConfig | undefined = top?.repo?.value;
  const root = config?.root;
  if (top?.repo && root !== undefined) {
    const { docIndex, written } = top.repo;
    const pending: PendingFinding[] = [];
    const problem = (docIndex: number, path: (string | number)[], message: string, atKey = false) =>
      pending.push({ code: 'E_REPO_ROOT', severity: 'error', file: top.file.path, docIndex, path, message, atKey });
    for (const key of written.filter((name) => name !== 'root')) {
      problem(docIndex, ['spec', key], `with spec.root, ${REPO_CONFIG_FILE} only points at the fleet: move ${key} to ${root}/${REPO_CONFIG_FILE}`, true);
    }
    for (const document of top.parsed.documents.filter((candidate) => candidate.kind !== 'Repo')) {
      problem(document.docIndex, [], `with spec.root, ${REPO_CONFIG_FILE} only points at the fleet: move this ${document.kind} under ${root}/`);
    }
    fleet = subfolderSnapshot(snapshot, root);
    if (fleet.files.length === 0) problem(docIndex, ['spec', 'root'], `folder "${root}" does not exist or holds no files`);
    if (pending.length > 0) return { snapshot, located: [], pending };
    const inner = await readConfig(fleet, parseOne);
    if (inner && 'problems' in inner) return { snapshot: fleet, root, ...inner.problems };
    if (inner?.repo?.value.root !== undefined) {
      const message = `spec.root belongs in the top-level ${REPO_CONFIG_FILE} only`;
      return { snapshot: fleet, root, located: [], pending: [{ code: 'E_REPO_ROOT', severity: 'error', file: REPO_CONFIG_FILE, docIndex: inner.repo.docIndex, path: ['spec', 'root'], message }] };
    }
    config = inner?.repo?.value;
  }
  const inPaths = config?.paths ? globMatcher(config.paths) : () => true;
  const ignored = config?.ignore ? globMatcher(config.ignore) : () => false;
  // The fleet's ygg.yaml is always read: globs that missed it must not silently drop its settings.
  const files = fleet.files.filter(
    ({ path }) => path === REPO_CONFIG_FILE || (isYamlPath(path) && !HIDDEN_PATH.test(path) && inPaths(path) && !ignored(path)),
  );
  const limits = applyLimits(config?.limits, root === undefined ? REPO_CONFIG_FILE : `${root}/${REPO_CONFIG_FILE}`);
  return { ...(root === undefined ? {} : { root }), fleet, files, limits };
}
