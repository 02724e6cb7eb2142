// One YAML file → its documents as model objects, plus the problems found in them alone.
// Pure and content-addressed: the result depends only on (path, text), so it is cached by blob id.
import jsYaml from 'js-yaml';
import { API_VERSION, type Host, type Job, type Kind, type RepoConfig, type Service, type TreeNode, type Zone } from '../model/types.js';
import type { PendingFinding } from './finding.js';
import { locateSyntaxError } from './locate-findings.js';
import { checkDocument } from './check-document.js';
import { limitSetting, type AppliedLimits } from './repo-limits.js';
import type { DocumentValidator } from './schema-validator.js';
import { checkYamlText, expandsPast, mayHaveAliases, mayNestDeeperThan, type TextProblem } from './yaml-limits.js';

export type LoadedDocument =
  /** `written`: the spec fields the file sets itself (the schema fills in the others). */
  | { readonly kind: 'Repo'; readonly value: RepoConfig; readonly docIndex: number; readonly written: readonly string[] }
  | { readonly kind: 'Host'; readonly value: Host; readonly docIndex: number }
  | { readonly kind: 'TreeNode'; readonly value: TreeNode; readonly docIndex: number }
  | { readonly kind: 'Job'; readonly value: Job; readonly docIndex: number }
  | { readonly kind: 'Service'; readonly value: Service; readonly docIndex: number }
  | { readonly kind: 'Zone'; readonly value: Zone; readonly docIndex: number };

export interface ParsedFile {
  readonly documents: readonly LoadedDocument[];
  readonly findings: readonly PendingFinding[];
  /** `Kind/name` of documents that failed the schema: they exist, so references to them are not dangling. */
  readonly invalidDeclarations: readonly string[];
  /** A syntax error, or a file refused by a limit, is located at parse time (it has no usable documents). */
  readonly fileError?: TextProblem;
}

const KINDS: readonly Kind[] = ['Repo', 'Host', 'TreeNode', 'Job', 'Service', 'Zone'];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** js-yaml refuses deeper nesting; `yaml`, which locates errors, is kept well clear of its own stack limit. */
const MAX_DEPTH = 100;
// The core schema matches YAML 1.2 (as `yaml` reads it): no timestamps, no merge keys. `maxDepth`
// (js-yaml ≥ 4.2, 100 by default) is missing from @types/js-yaml.
export const LOAD_OPTIONS = { schema: jsYaml.CORE_SCHEMA, maxDepth: MAX_DEPTH } as jsYaml.LoadOptions;

function parseYaml(text: string): { values: unknown[] } | { syntaxError: TextProblem } {
  try {
    return { values: jsYaml.loadAll(text, undefined, LOAD_OPTIONS) };
  } catch (error) {
    if (!(error instanceof jsYaml.YAMLException)) throw error;
    const located = mayNestDeeperThan(text, 2 * MAX_DEPTH) ? undefined : locateSyntaxError(text);
    if (located) return { syntaxError: { code: 'E_YAML_SYNTAX', ...located } };
    const mark = (error as { mark?: { line: number; column: number } }).mark;
    return { syntaxError: { code: 'E_YAML_SYNTAX', line: (mark?.line ?? 0) + 1, col: (mark?.column ?? 0) + 1, message: error.reason || error.message } };
  }
}

const refused = (fileError: TextProblem): ParsedFile => ({ documents: [], findings: [], invalidDeclarations: [], fileError });

export function parseFile(file: string, text: string, validator: DocumentValidator, limits: AppliedLimits): ParsedFile {
  const overLimit = checkYamlText(text, limits);
  if (overLimit) return refused(overLimit);
  const parsed = parseYaml(text);
  if ('syntaxError' in parsed) return refused(parsed.syntaxError);
  if (parsed.values.length > limits.maxDocumentsPerFile) {
    // Documents after a bare `...` end marker escape the count before parsing.
    return refused({ code: 'E_TOO_MANY_DOCUMENTS', line: 1, col: 1, message: `more than ${limits.maxDocumentsPerFile.toLocaleString('en-US')} YAML documents in one file ${limitSetting(limits, 'maxDocumentsPerFile')}` });
  }

  const findings: PendingFinding[] = [];
  const documents: LoadedDocument[] = [];
  const invalidDeclarations: string[] = [];
  const problem = (docIndex: number, path: (string | number)[], code: string, message: string, atKey = false) =>
    findings.push({ code, severity: 'error', message, file, docIndex, path, atKey });

  // A stray `---` yields an empty document; only a file with nothing at all is an error.
  if (parsed.values.every((value) => value === null || value === undefined)) {
    problem(0, [], 'E_EMPTY_FILE', 'file contains no YAML documents (expected apiVersion, kind, metadata, spec)');
  }
  const mayExpand = mayHaveAliases(text);
  parsed.values.forEach((value, docIndex) => {
    if (value === null || value === undefined) return;
    if (mayExpand && expandsPast(value, text.length)) {
      // A file with no aliases has fewer values than characters: more means an alias bomb.
      problem(docIndex, [], 'E_ALIAS_EXPANSION', `aliases expand this document to more values than the file has characters (${text.length.toLocaleString('en-US')}); write the values out instead`);
      return;
    }
    if (!isPlainObject(value)) {
      const found = Array.isArray(value) ? 'a list' : `a ${typeof value}`;
      problem(docIndex, [], 'E_NOT_A_MAPPING', `document must be a mapping with apiVersion, kind, metadata and spec, found ${found}`);
      return;
    }
    if (value.apiVersion !== API_VERSION) {
      const message = value.apiVersion === undefined
        ? `missing apiVersion (expected "${API_VERSION}")`
        : `apiVersion must be "${API_VERSION}", found ${JSON.stringify(value.apiVersion)}`;
      problem(docIndex, value.apiVersion === undefined ? [] : ['apiVersion'], 'E_API_VERSION', message);
      return;
    }
    const kind = value.kind as Kind;
    if (!KINDS.includes(kind)) {
      const message = value.kind === undefined ? `missing kind (one of ${KINDS.join(', ')})` : `unknown kind ${JSON.stringify(value.kind)} (one of ${KINDS.join(', ')})`;
      problem(docIndex, value.kind === undefined ? [] : ['kind'], 'E_KIND', message);
      return;
    }
    // Read before validating: the validator fills in defaults.
    const written = isPlainObject(value.spec) ? Object.keys(value.spec) : [];
    const schemaProblems = validator.validate(kind, value);
    for (const schemaProblem of schemaProblems) problem(docIndex, [...schemaProblem.path], 'E_SCHEMA', schemaProblem.message, schemaProblem.atKey);
    if (schemaProblems.length > 0) {
      const metadata = value.metadata as Record<string, unknown> | undefined;
      const name = kind === 'TreeNode' ? metadata?.tag : metadata?.name;
      if (typeof name === 'string') invalidDeclarations.push(`${kind}/${name}`);
      return;
    }

    const origin = { file, docIndex };
    const document = toModel(kind, value, origin, docIndex, written);
    for (const semantic of checkDocument(document)) problem(docIndex, [...semantic.path], semantic.code, semantic.message);
    documents.push(document);
  });
  return { documents, findings, invalidDeclarations };
}

/** The validator has filled schema defaults in place, so the shapes now match the model types. */
function toModel(kind: Kind, document: Record<string, unknown>, origin: { file: string; docIndex: number }, docIndex: number, written: readonly string[]): LoadedDocument {
  const metadata = (document.metadata ?? {}) as Record<string, unknown>;
  const spec = (document.spec ?? {}) as Record<string, unknown>;
  switch (kind) {
    case 'Repo':
      return { kind, docIndex, value: spec as unknown as RepoConfig, written };
    case 'Host':
      return { kind, docIndex, value: { name: metadata.name, ...spec, origin } as unknown as Host };
    case 'TreeNode':
      return { kind, docIndex, value: { tag: metadata.tag, ...spec, origin } as unknown as TreeNode };
    case 'Job':
      return { kind, docIndex, value: { name: metadata.name, tag: metadata.tag, spec, origin } as unknown as Job };
    case 'Service':
      return { kind, docIndex, value: { name: metadata.name, ...spec, origin } as unknown as Service };
    case 'Zone':
      return { kind, docIndex, value: { name: metadata.name, ...spec, origin } as unknown as Zone };
  }
}
