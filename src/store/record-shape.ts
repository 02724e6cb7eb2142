// Tiny structural checkers for JSON read from etcd. Each returns the list of problems (empty: fine),
// so a reader can skip a malformed value and say exactly what was wrong with it, never throw.

/** Checks `value` found at `path` (e.g. `spec.rollout.maxParallel`); returns its problems. */
export type Shape = (value: unknown, path: string) => string[];

/** A type guard that can also explain why a value is not a T. */
export interface RecordCheck<T> {
  (value: unknown): value is T;
  readonly recordName: string;
  problems(value: unknown): string[];
}

export function recordCheck<T>(recordName: string, shape: Shape): RecordCheck<T> {
  const problems = (value: unknown) => shape(value, '');
  const check = ((value: unknown) => problems(value).length === 0) as RecordCheck<T>;
  return Object.assign(check, { recordName, problems });
}

/** Problems of `value` per `check`: its own explanation if it has one, else a generic line. */
export function problemsOf(check: (value: unknown) => boolean, value: unknown): string[] {
  const explained = (check as Partial<RecordCheck<unknown>>).problems?.(value);
  if (explained) return explained;
  return check(value) ? [] : [`value rejected by ${check.name || 'the check'}`];
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function at(path: string): string {
  return path === '' ? 'value' : path;
}

function expect(test: (value: unknown) => boolean, expected: string): Shape {
  return (value, path) => {
    if (value === undefined) return [`${at(path)}: missing`];
    return test(value) ? [] : [`${at(path)}: expected ${expected}, got ${describe(value)}`];
  };
}

export const string = expect((value) => typeof value === 'string', 'a string');
export const number = expect((value) => typeof value === 'number' && Number.isFinite(value), 'a number');
export const boolean = expect((value) => typeof value === 'boolean', 'a boolean');

export function oneOf(...allowed: readonly string[]): Shape {
  return expect((value) => typeof value === 'string' && allowed.includes(value), `one of ${allowed.join(', ')}`);
}

export function exactly(expected: boolean | number | string): Shape {
  return expect((value) => value === expected, JSON.stringify(expected));
}

export function optional(shape: Shape): Shape {
  return (value, path) => (value === undefined ? [] : shape(value, path));
}

export function nullable(shape: Shape): Shape {
  return (value, path) => (value === null ? [] : shape(value, path));
}

export function arrayOf(item: Shape): Shape {
  return (value, path) => {
    if (!Array.isArray(value)) return expect(() => false, 'an array')(value, path);
    return value.flatMap((element, index) => item(element, `${path}[${index}]`));
  };
}

/** An object whose every value fits `item` (env, ports, labels). */
export function recordOf(item: Shape): Shape {
  return (value, path) => {
    if (!isPlainObject(value)) return expect(() => false, 'an object')(value, path);
    return Object.entries(value).flatMap(([key, element]) => item(element, join(path, key)));
  };
}

/** An object with these fields (others are allowed: a newer writer may add fields). */
export function object(fields: Readonly<Record<string, Shape>>): Shape {
  return (value, path) => {
    if (!isPlainObject(value)) return expect(() => false, 'an object')(value, path);
    return Object.entries(fields).flatMap(([key, field]) => field(value[key], join(path, key)));
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
