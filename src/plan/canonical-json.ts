// JSON with object keys sorted at every depth: equal data gives equal text (stable diffs, hashes).
// Values frozen with freezeDeep cannot change, so their text is remembered: an assignment record
// that shares its job spec with the other instances of its job serialises the spec once, not once
// per put or hash. Remembered are the frozen value and its direct children (a spec hash is taken
// over the spec's fields, not the spec); deeper ones would hold the same text again at every level.
// Only recent texts are kept: the instances of a job are written and hashed together, and the text
// of every spec of a 10,000-job fleet, kept for as long as the spec lives, was ~25 MB of the idle
// controller's heap for texts a settled fleet seldom needs again.

const remembers = new WeakSet<object>();
const RECENT_TEXTS = 8192;
let rememberedText = new Map<object, string>();

export function canonicalJson(value: unknown): string {
  return write(value) as string;
}

/** Freezes `value` and everything in it, and marks it so canonicalJson may remember its text. */
export function freezeDeep<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  freezeAll(value);
  remembers.add(value);
  for (const child of Object.values(value)) if (typeof child === 'object' && child !== null) remembers.add(child);
  return value;
}

function freezeAll(value: object): void {
  for (const child of Object.values(value)) if (typeof child === 'object' && child !== null) freezeAll(child);
  Object.freeze(value);
}

/** undefined where JSON.stringify leaves the value out (undefined, functions, symbols). */
function write(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const remembered = rememberedText.get(value);
  if (remembered !== undefined) return remembered;
  let text: string;
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (let index = 0; index < value.length; index++) items.push(write(value[index]) ?? 'null');
    text = `[${items.join(',')}]`;
  } else {
    const fields: string[] = [];
    for (const key of orderedKeys(value)) {
      const field = write((value as Record<string, unknown>)[key]);
      if (field !== undefined) fields.push(`${JSON.stringify(key)}:${field}`);
    }
    text = `{${fields.join(',')}}`;
  }
  if (remembers.has(value)) {
    // A full table is mostly texts of jobs done with: dropped at once rather than kept in order.
    if (rememberedText.size >= RECENT_TEXTS) rememberedText = new Map();
    rememberedText.set(value, text);
  }
  return text;
}

const ARRAY_INDEX = /^(?:0|[1-9]\d{0,9})$/;

/**
 * Sorted keys in the order a JS object built from them enumerates them — integer-like keys first,
 * numerically — as the text has always been JSON.stringify of such an object: spec hashes of
 * running instances depend on it.
 */
function orderedKeys(value: object): string[] {
  const keys = Object.keys(value).sort();
  const indexes = keys.filter((key) => ARRAY_INDEX.test(key) && Number(key) < 2 ** 32 - 1);
  if (indexes.length === 0) return keys;
  const isIndex = new Set(indexes);
  return [...indexes.sort((a, b) => Number(a) - Number(b)), ...keys.filter((key) => !isIndex.has(key))];
}
