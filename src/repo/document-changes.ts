// What changed between two versions of the repo's documents, by kind and name, down to the fields.
// Reads raw YAML (no schema), so the history of documents that were once invalid still shows.
import jsYaml from 'js-yaml';
import { LOAD_OPTIONS } from './parse-file.js';
import { applyLimits } from './repo-limits.js';
import { checkYamlText, expandsPast, mayHaveAliases } from './yaml-limits.js';

export interface FieldChange {
  readonly field: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

export interface DocumentChange {
  readonly kind: string;
  readonly name: string;
  readonly change: 'added' | 'removed' | 'modified';
  readonly fields: readonly FieldChange[];
}

export type RawDocuments = ReadonlyMap<string, { readonly kind: string; readonly name: string; readonly body: unknown }>;

/** Documents of one file keyed by `kind/name`; unreadable YAML yields none. */
/** History reads any old commit: the loader's default bounds apply, so a hostile file cannot stall it. */
const HISTORY_LIMITS = applyLimits(undefined, 'ygg.yaml');

export function readRawDocuments(text: string): RawDocuments {
  const documents = new Map<string, { kind: string; name: string; body: unknown }>();
  let values: unknown[];
  try {
    if (checkYamlText(text, HISTORY_LIMITS)) return documents; // over the bounds: nothing to attribute
    values = jsYaml.loadAll(text, undefined, LOAD_OPTIONS);
  } catch {
    return documents; // a syntax error in an old commit: nothing to attribute
  }
  // Comparing documents expands their aliases: one that expands past its text is a bomb, not a fleet.
  if (mayHaveAliases(text) && values.some((value) => expandsPast(value, text.length))) return documents;
  for (const value of values) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
    const record = value as { kind?: unknown; metadata?: { name?: unknown; tag?: unknown } };
    const kind = typeof record.kind === 'string' ? record.kind : 'Unknown';
    const rawName = kind === 'TreeNode' ? record.metadata?.tag : kind === 'Repo' ? 'ygg.yaml' : record.metadata?.name;
    const name = typeof rawName === 'string' ? rawName : '?';
    documents.set(`${kind}/${name}`, { kind, name, body: value });
  }
  return documents;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Leaf-ish differences: objects are descended two levels below spec, lists and scalars compared whole. */
function diffFields(before: unknown, after: unknown, prefix: string, depth: number, out: FieldChange[]): void {
  if (JSON.stringify(before) === JSON.stringify(after)) return;
  if (depth > 0 && isObject(before) && isObject(after)) {
    for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
      diffFields(before[key], after[key], prefix ? `${prefix}.${key}` : key, depth - 1, out);
    }
    return;
  }
  out.push({ field: prefix, ...(before !== undefined ? { before } : {}), ...(after !== undefined ? { after } : {}) });
}

export function diffDocuments(before: RawDocuments, after: RawDocuments): DocumentChange[] {
  const changes: DocumentChange[] = [];
  for (const key of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const old = before.get(key);
    const next = after.get(key);
    if (old && next) {
      const fields: FieldChange[] = [];
      diffFields(old.body, next.body, '', 3, fields);
      if (fields.length > 0) changes.push({ kind: next.kind, name: next.name, change: 'modified', fields });
    } else if (next) {
      changes.push({ kind: next.kind, name: next.name, change: 'added', fields: [] });
    } else if (old) {
      changes.push({ kind: old.kind, name: old.name, change: 'removed', fields: [] });
    }
  }
  return changes;
}

function showValue(value: unknown): string {
  if (value === undefined) return '∅';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** One line: `Job alias-job-dispatcher: spec.version 1.4.1 → 1.4.2, spec.configs changed`. */
export function describeChange(change: DocumentChange): string {
  if (change.change !== 'modified') return `${change.kind} ${change.name} ${change.change}`;
  const fields = change.fields.map((field) => {
    const scalar = (value: unknown) => value === undefined || typeof value !== 'object';
    return scalar(field.before) && scalar(field.after) ? `${field.field} ${showValue(field.before)} → ${showValue(field.after)}` : `${field.field} changed`;
  });
  return `${change.kind} ${change.name}: ${fields.join(', ')}`;
}
