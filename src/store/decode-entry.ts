// Turning etcd key-values into checked JSON entries. A value that is not JSON, or not the record the
// reader expects, becomes a `{ key, problem }` for the reader to report: it never throws.
import type { IKeyValue } from 'etcd3';
import { problemsOf } from './record-shape.js';

export interface StoredEntry<T> {
  readonly value: T;
  readonly modRevision: string;
  readonly createRevision: string;
  /** "0" when the key has no lease. */
  readonly lease: string;
}

export interface SkippedEntry {
  readonly key: string;
  readonly problem: string;
}

export type ValueCheck<T> = (value: unknown) => value is T;

export type Decoded<T> = { readonly ok: true; readonly key: string; readonly entry: StoredEntry<T> } | { readonly ok: false; readonly skipped: SkippedEntry };

export function decodeEntry<T>(kv: IKeyValue, check: ValueCheck<T>): Decoded<T> {
  const key = kv.key.toString();
  const text = kv.value.toString();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const preview = text.length > 60 ? `${text.slice(0, 60)}…` : text;
    return { ok: false, skipped: { key, problem: `not JSON: ${JSON.stringify(preview)}` } };
  }
  if (!check(value)) {
    const name = (check as { recordName?: string }).recordName;
    const problems = problemsOf(check, value).join('; ');
    return { ok: false, skipped: { key, problem: name ? `not a valid ${name}: ${problems}` : problems } };
  }
  return {
    ok: true,
    key,
    entry: { value, modRevision: String(kv.mod_revision), createRevision: String(kv.create_revision), lease: String(kv.lease) },
  };
}

/** The check for readers that take any JSON value. */
export function anyJson(value: unknown): value is unknown {
  return value !== undefined;
}
