// The shape of what a job's templates can read (`host`, `job`, `ports`, `dirs`, `tags`), as types
// the template checker walks: which names exist at each level, which are printable values. Field
// sets are Maps, never plain objects: a name like `constructor` or `__proto__` must not be found
// on Object.prototype.
import { TAG_LEVELS } from '../model/tag.js';

export interface TemplateVariables {
  readonly portNames: readonly string[];
  /** The levels the job's tag has (servicegroup is optional); all levels when unknown. */
  readonly tagLevels?: readonly string[];
}

/** A string or number: printable, nothing below it. */
export interface ScalarType {
  readonly kind: 'scalar';
}

/** A map with known names (the context, `host`, `ports`...). */
export interface RecordType {
  readonly kind: 'record';
  readonly fields: ReadonlyMap<string, TemplateType>;
  /** The problem with reading `field` through the path `original`, which the record lacks. */
  unknownField(field: string, original: string): string;
  /** The problem with printing the record itself. */
  printedWhole(original: string): string;
}

/** `host.labels`: names differ from host to host, so each one read must exist on every host. */
export interface LabelsType {
  readonly kind: 'labels';
}

/** Not known statically (e.g. #each over a record of mixed fields): nothing below it is checked. */
export interface UnknownType {
  readonly kind: 'unknown';
}

export type TemplateType = ScalarType | RecordType | LabelsType | UnknownType;

export const SCALAR: ScalarType = { kind: 'scalar' };
export const LABELS: LabelsType = { kind: 'labels' };
export const UNKNOWN: UnknownType = { kind: 'unknown' };

function scalars(names: readonly string[]): Map<string, TemplateType> {
  return new Map(names.map((name) => [name, SCALAR]));
}

/** A record whose problems name it and list its fields, e.g. `host has name, ip, labels`. */
function namedRecord(name: string, fields: Map<string, TemplateType>): RecordType {
  const list = () => [...fields.keys()].join(', ');
  return {
    kind: 'record',
    fields,
    unknownField: (field, original) => `unknown field "${field}" in "${original}" (${name} has ${list()})`,
    printedWhole: (original) => `"${original}" is an object: name one of its fields (${list()})`,
  };
}

function portsRecord(portNames: readonly string[]): RecordType {
  const list = portNames.join(', ') || 'none';
  return {
    kind: 'record',
    fields: scalars(portNames),
    unknownField: (field, original) => `unknown port "${field}" in "${original}" (ports: ${list})`,
    printedWhole: (original) => `"${original}" is an object: name one of its fields (ports: ${list})`,
  };
}

function tagsRecord(tagLevels: readonly string[] | undefined): RecordType {
  if (!tagLevels) return namedRecord('tags', scalars(TAG_LEVELS));
  const tags = namedRecord('tags', scalars(tagLevels));
  return { ...tags, unknownField: (field, original) => `the job's tag has no level "${field}" in "${original}" (levels: ${tagLevels.join(', ')})` };
}

/** The context every template of a job renders in (see renderInstance). */
export function contextType(variables: TemplateVariables): RecordType {
  const fields = new Map<string, TemplateType>([
    ['host', namedRecord('host', new Map<string, TemplateType>([['name', SCALAR], ['ip', SCALAR], ['labels', LABELS]]))],
    ['job', namedRecord('job', scalars(['name', 'tag', 'version']))],
    ['dirs', namedRecord('dirs', scalars(['release', 'data', 'log']))],
    ['tags', tagsRecord(variables.tagLevels)],
    ['ports', portsRecord(variables.portNames)],
  ]);
  const known = [...fields.keys()].join(', ');
  return {
    kind: 'record',
    fields,
    unknownField: (_field, original) => `unknown template variable "${original}" (known: ${known})`,
    printedWhole: (original) => `"${original}" is the whole context: name a variable (${known})`,
  };
}

/** What `#each` over a value of this type sets as the context of its body. */
export function elementType(type: TemplateType): TemplateType {
  if (type.kind === 'labels') return SCALAR;
  if (type.kind !== 'record') return UNKNOWN;
  const kinds = new Set([...type.fields.values()].map((field) => field.kind));
  return kinds.size === 1 && kinds.has('scalar') ? SCALAR : UNKNOWN;
}
