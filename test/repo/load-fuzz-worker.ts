// The loader fuzz run, in a worker thread so that the test's main thread can stop a case that hangs
// (a synchronous loop cannot be interrupted from its own thread). Cases are example-repo files
// mutated (byte flips, truncations, duplicated lines, deep nesting, huge numbers, odd unicode,
// anchors and aliases, prototype keys, template names) and random documents. Each case must load
// without throwing, to either a model and no error or errors, each at a real file:line:col.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import jsYaml from 'js-yaml';
import { RepoLoader } from '../../src/repo/load-repo.js';
import { createSchemaValidator } from '../../src/repo/schema-validator.js';
import type { RepoFile, RepoSnapshot } from '../../src/repo/source.js';

export interface FuzzOptions {
  readonly runs: number;
  readonly seed: number;
  readonly exampleRepo: string;
  /** Each case's text is written here before it runs: the reproducer when it hangs. */
  readonly caseFile: string;
}

export type FuzzMessage = { readonly started: number } | { readonly failure: string } | { readonly done: number };

const { runs, seed, exampleRepo, caseFile } = workerData as FuzzOptions;

function readTree(root: string, relative = ''): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const entry of readdirSync(path.join(root, relative), { withFileTypes: true })) {
    const entryPath = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isDirectory()) for (const [file, bytes] of readTree(root, entryPath)) files.set(file, bytes);
    else files.set(entryPath, readFileSync(path.join(root, entryPath)));
  }
  return files;
}

const EXAMPLE = readTree(exampleRepo);
const SEEDS = [...EXAMPLE.keys()].filter((file) => file.endsWith('.yaml')).sort();
const digest = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The example repo with `file` replaced by `text`, in memory (so the loader parses on this thread). */
function snapshotWith(file: string, text: string): RepoSnapshot {
  const contents = new Map(EXAMPLE);
  contents.set(file, new TextEncoder().encode(text));
  const files: RepoFile[] = [...contents.keys()].sort().map((name) => ({ path: name, id: digest(contents.get(name)!) }));
  const bytes = (repoFile: RepoFile) => contents.get(repoFile.path)!;
  return {
    files,
    readText: async (repoFile) => new TextDecoder().decode(bytes(repoFile)),
    readBytes: async (repoFile) => bytes(repoFile),
    sizeOf: async (repoFile) => bytes(repoFile).length,
    sha256: async (repoFile) => digest(bytes(repoFile)),
  };
}

const YAML_CHARACTERS = [':', '-', '[', ']', '{', '}', ',', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`', '#', '?', ' ', '\n', '\t', '\\'];
const ODD_TEXT = ['\u0000', '\uFEFF', '\u202E', '\uD800', '\u0085', '\u2028', '\u{1F4A5}', 'e\u0301', '\r', '\x1b[31m', '\u00A0'];
const NUMBERS = ['1e400', '-1e400', '99999999999999999999999', '0x7fffffffffffffffff', '.nan', '-.inf', '-0', '0o777', '+12', '1_000', '0.0000000000000000000001'];
const KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'];
/** What goes between `{{` and `}}` of a template in place of its expression. */
const EXPRESSIONS = ['toString', 'constructor', '__proto__', 'valueOf', 'hasOwnProperty', 'host.constructor.name', 'ports.__proto__', '#each ports', '> partial', '{host.ip}', 'lookup this "constructor"', '', '{{', 'host.ip}} {{'];

type Edit =
  | { kind: 'replace'; at: number; text: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate-line'; at: number }
  | { kind: 'nest'; at: number; opener: string; depth: number }
  | { kind: 'number'; at: number; value: string }
  | { kind: 'key'; at: number; key: string }
  | { kind: 'alias'; at: number; to: number }
  | { kind: 'template'; at: number; expression: string };

const at = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at, text: fc.oneof(fc.constantFrom(...YAML_CHARACTERS, ...ODD_TEXT), fc.string({ unit: 'binary', minLength: 1, maxLength: 3 })) }),
  fc.record({ kind: fc.constant('truncate' as const), at }),
  fc.record({ kind: fc.constant('duplicate-line' as const), at }),
  fc.record({ kind: fc.constant('nest' as const), at, opener: fc.constantFrom('[', '{a: ', '- ', '? ', '  '), depth: fc.integer({ min: 1, max: 3000 }) }),
  fc.record({ kind: fc.constant('number' as const), at, value: fc.constantFrom(...NUMBERS) }),
  fc.record({ kind: fc.constant('key' as const), at, key: fc.constantFrom(...KEYS) }),
  fc.record({ kind: fc.constant('alias' as const), at, to: at }),
  fc.record({ kind: fc.constant('template' as const), at, expression: fc.constantFrom(...EXPRESSIONS) }),
);

function applyEdit(text: string, change: Edit): string {
  const position = Math.floor(change.at * (text.length + 1));
  const lineStart = text.lastIndexOf('\n', position - 1) + 1;
  const lineEnd = text.indexOf('\n', position) < 0 ? text.length : text.indexOf('\n', position);
  switch (change.kind) {
    case 'replace':
      return text.slice(0, position) + change.text + text.slice(position + 1);
    case 'truncate':
      return text.slice(0, position);
    case 'duplicate-line':
      return text.slice(0, lineEnd) + '\n' + text.slice(lineStart, lineEnd) + text.slice(lineEnd);
    case 'nest':
      return text.slice(0, position) + change.opener.repeat(change.depth) + text.slice(position);
    case 'number':
      return text.slice(0, position) + change.value + text.slice(position);
    case 'template': {
      // Rewrites one of the file's template expressions (the n-th `{{`), or inserts one.
      const opens = [...text.matchAll(/\{\{/g)].map((match) => match.index);
      if (opens.length === 0) return `${text.slice(0, position)}{{${change.expression}}}${text.slice(position)}`;
      const open = opens[Math.floor(change.at * opens.length)]! + 2;
      const close = text.indexOf('}}', open);
      return text.slice(0, open) + change.expression + text.slice(close < 0 ? open : close);
    }
    case 'key': {
      const colon = text.indexOf(':', lineStart);
      if (colon < 0 || colon > lineEnd) return text;
      const indent = /^[ -]*/.exec(text.slice(lineStart, colon))![0];
      return text.slice(0, lineStart) + indent + change.key + text.slice(colon);
    }
    case 'alias': {
      const target = Math.floor(change.to * (text.length + 1));
      const [first, second] = position <= target ? [position, target] : [target, position];
      return `${text.slice(0, first)}&fuzz ${text.slice(first, second)}*fuzz${text.slice(second)}`;
    }
  }
}

/** Random documents of each kind, from random JSON-like values. */
const randomDocument = fc
  .record({ kind: fc.constantFrom('Repo', 'Host', 'TreeNode', 'Job', 'Service', 'Zone', 'Other'), metadata: fc.anything({ maxDepth: 3 }), spec: fc.anything({ maxDepth: 4 }) })
  .map((document) => jsYaml.dump({ apiVersion: 'ygg/v1', ...document }, { skipInvalid: true }));

const fuzzCase = fc.oneof(
  { weight: 4, arbitrary: fc.record({ file: fc.constantFrom(...SEEDS), edits: fc.array(edit, { minLength: 1, maxLength: 4 }) }).map(({ file, edits }) => ({ file, text: edits.reduce(applyEdit, new TextDecoder().decode(EXAMPLE.get(file)!)) })) },
  { weight: 1, arbitrary: fc.record({ file: fc.constantFrom(...SEEDS, 'fuzz.yaml'), text: randomDocument }) },
  { weight: 1, arbitrary: fc.record({ file: fc.constant('fuzz.yaml'), text: fc.string({ unit: fc.constantFrom(...YAML_CHARACTERS, 'a', 'b', '1', 'apiVersion', 'kind', 'ygg/v1', 'Host'), maxLength: 200 }) }) },
);

const loader = new RepoLoader(createSchemaValidator());
const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort().join();
let started = 0;

async function check({ file, text }: { file: string; text: string }): Promise<void> {
  parentPort!.postMessage({ started: ++started } satisfies FuzzMessage);
  writeFileSync(caseFile, JSON.stringify({ file, text }));
  const snapshot = snapshotWith(file, text);
  const result = await loader.load(snapshot);
  const errors = result.findings.filter((finding) => finding.severity === 'error');
  if (result.model ? errors.length > 0 : errors.length === 0) throw new Error(`model ${result.model ? 'and' : 'without'} errors`);
  const lineCounts = new Map(snapshot.files.map((repoFile) => [repoFile.path, 1]));
  lineCounts.set(file, text.split('\n').length);
  for (const finding of result.findings) {
    const lines = lineCounts.get(finding.file) ?? (finding.file === 'ygg.yaml' ? 1 : undefined);
    const located = lines !== undefined && Number.isInteger(finding.line) && finding.line >= 1 && Number.isInteger(finding.col) && finding.col >= 1;
    if (!located || (finding.file === file && finding.line > lines! + 1)) throw new Error(`not located in a file of the repo: ${JSON.stringify(finding)}`);
    if (typeof finding.message !== 'string' || finding.message === '' || !/^[EW]_[A-Z0-9_]+$/.test(finding.code)) throw new Error(`no message or code: ${JSON.stringify(finding)}`);
  }
  if (Object.getOwnPropertyNames(Object.prototype).sort().join() !== prototypeNames || ({} as Record<string, unknown>)['fuzz'] !== undefined) {
    throw new Error('Object.prototype was changed');
  }
}

try {
  await fc.assert(fc.asyncProperty(fuzzCase, check), { numRuns: runs, seed, endOnFailure: true });
  parentPort!.postMessage({ done: started } satisfies FuzzMessage);
} catch (error) {
  // fast-check's report: the seed and path to replay, the shrunk case, the error with its stack.
  const { message, cause } = error as Error & { cause?: Error };
  const report = [...message.split('\n').filter((line) => !line.startsWith('Hint:')), ...(cause?.stack ?? String(cause)).split('\n').slice(0, 5)];
  const failure = report.map((line) => (line.length > 800 ? `${line.slice(0, 800)}...` : line)).join('\n');
  parentPort!.postMessage({ failure } satisfies FuzzMessage);
}
