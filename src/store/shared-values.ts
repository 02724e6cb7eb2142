// Equal JSON values held once. 75,000 assignment records name ~10,000 job specs and 5,000 hosts;
// parsed one by one, each record would carry its own deep copy of its spec and host — twice, with
// `previous` — and that copy was most of the controller's memory. A shared value is deep-frozen (so
// canonicalJson remembers its text, and nobody can change it under the other records) and held
// weakly: the specs of old commits go once no record names them.
import { createHash } from 'node:crypto';
import { freezeDeep } from '../plan/canonical-json.js';
import type { AssignmentRecord } from './records.js';

const byText = new Map<string, WeakRef<object>>();
const forget = new FinalizationRegistry<string>((key) => {
  if (byText.get(key)?.deref() === undefined) byText.delete(key);
});
/** What each value given (or returned) was shared as: a model object or a shared one costs one lookup. */
const sharedAs = new WeakMap<object, object>();

/**
 * The one frozen value equal (as JSON) to `value`: the first of its kind is frozen in place and
 * becomes it, so a model's job spec and the records naming it hold one object, not two.
 */
export function shareValue<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  const known = sharedAs.get(value);
  if (known) return known as T;
  const text = JSON.stringify(value);
  // The digest, not the text, keys the table: the text of 10,000 specs would be megabytes of keys.
  const key = createHash('sha1').update(text).digest('base64');
  let shared = byText.get(key)?.deref();
  if (!shared) {
    shared = freezeDeep(value as object);
    byText.set(key, new WeakRef(shared));
    forget.register(shared, key);
  }
  sharedAs.set(value, shared);
  sharedAs.set(shared, shared);
  return shared as T;
}

const recentTexts = new Map<string, string>();

/** One copy of a string that thousands of records repeat (a commit sha, a reconcile's time). */
function shareText(text: string): string {
  const known = recentTexts.get(text);
  if (known !== undefined) return known;
  // Few distinct values are live at once: a full table is old ones, dropped rather than kept forever.
  if (recentTexts.size >= 256) recentTexts.clear();
  recentTexts.set(text, text);
  return text;
}

/** The record with its spec, host facts and services (and those of `previous`) shared. */
export function shareAssignment(record: AssignmentRecord): AssignmentRecord {
  const { previous, services } = record;
  return {
    ...record,
    commit: shareText(record.commit),
    assignedAt: shareText(record.assignedAt),
    host: shareValue(record.host),
    spec: shareValue(record.spec),
    ...(services ? { services: shareValue(services) } : {}),
    ...(previous ? { previous: { ...previous, commit: shareText(previous.commit), host: shareValue(previous.host), spec: shareValue(previous.spec) } } : {}),
  };
}
