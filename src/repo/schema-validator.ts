// Validates documents against the JSON Schemas in schemas/ and turns ajv's errors into one plain
// sentence each. Validation also fills the schemas' defaults into the document.
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import type { Kind } from '../model/types.js';
import { closestMatch } from '../util/closest-match.js';

export interface SchemaProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly atKey?: boolean;
}

export interface DocumentValidator {
  validate(kind: Kind, document: Record<string, unknown>): SchemaProblem[];
}

export const SCHEMA_FILES: Readonly<Record<Kind, string>> = {
  Repo: 'repo.schema.json',
  Host: 'host.schema.json',
  TreeNode: 'tree-node.schema.json',
  Job: 'job.schema.json',
  Service: 'service.schema.json',
  Zone: 'zone.schema.json',
};

/** schemas/ sits two levels above both src/repo/ and dist/repo/. */
export const SCHEMA_DIR = new URL('../../schemas/', import.meta.url);

const addFormats = formatsModule.default;

export function createSchemaValidator(): DocumentValidator {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTuples: false, useDefaults: true, verbose: true });
  addFormats(ajv);
  const validators = new Map<Kind, ValidateFunction>();
  for (const [kind, file] of Object.entries(SCHEMA_FILES) as [Kind, string][]) {
    validators.set(kind, ajv.compile(JSON.parse(readFileSync(new URL(file, SCHEMA_DIR), 'utf8'))));
  }
  return {
    validate(kind, document) {
      const validate = validators.get(kind)!;
      return validate(document) ? [] : describeErrors(validate.errors ?? []);
    },
  };
}

function splitPointer(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}

function fieldName(path: readonly (string | number)[]): string {
  return path.reduce<string>((name, segment) => (typeof segment === 'number' ? `${name}[${segment}]` : name ? `${name}.${segment}` : segment), '') || 'document';
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const FORMAT_NAMES: Readonly<Record<string, string>> = { ipv4: 'IPv4 address', ipv6: 'IPv6 address', uri: 'URL' };

function describe(error: ErrorObject): SchemaProblem | undefined {
  const path = splitPointer(error.instancePath);
  const field = fieldName(path);
  const params = error.params as Record<string, unknown>;
  const schema = (error.parentSchema ?? {}) as Record<string, unknown>;
  const hint = typeof schema.description === 'string' ? ` (${schema.description.replace(/\.$/, '')})` : '';
  switch (error.keyword) {
    case 'required':
      return { path, message: `${field}: missing required field "${String(params.missingProperty)}"` };
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const name = String(params.additionalProperty ?? params.unevaluatedProperty);
      const known = Object.keys((schema.properties ?? {}) as object);
      const suggestion = closestMatch(name, known);
      const advice = suggestion ? `; did you mean "${suggestion}"?` : known.length ? ` (allowed: ${known.join(', ')})` : '';
      return { path: [...path, name], atKey: true, message: `${field}: unknown field "${name}"${advice}` };
    }
    case 'type':
      if (params.type === 'string' && (typeof error.data === 'number' || typeof error.data === 'boolean')) {
        return { path, message: `${field} must be a string, found ${typeof error.data} ${show(error.data)}: quote it ("${String(error.data)}")` };
      }
      if (params.type === 'array' && typeof error.data === 'string' && /command$/.test(field)) {
        return { path, message: `${field} must be an argv list such as [bin/app, --port, "8080"], not a shell string` };
      }
      return { path, message: `${field} must be ${String(params.type)}, found ${Array.isArray(error.data) ? 'a list' : error.data === null ? 'null' : typeof error.data}` };
    case 'pattern':
      return { path, message: `${field}: ${show(error.data)} is not allowed${hint}` };
    case 'format':
      return { path, message: `${field}: ${show(error.data)} is not a valid ${FORMAT_NAMES[String(params.format)] ?? String(params.format)}` };
    case 'enum':
      return { path, message: `${field} must be one of ${(params.allowedValues as unknown[]).map(show).join(', ')}, found ${show(error.data)}` };
    case 'const':
      return { path, message: `${field} must be ${show(params.allowedValue)}, found ${show(error.data)}` };
    case 'oneOf':
    case 'anyOf':
      return { path, message: `${field}${hint || ': does not match any allowed form'}` };
    case 'not':
      return { path, message: `${field}: not allowed here${hint}` };
    default:
      return { path, message: `${field} ${error.message ?? 'is invalid'}` };
  }
}

/**
 * One problem per location: branch errors inside oneOf/anyOf are noise when the combinator itself
 * is reported, and ajv may repeat a message for the same node.
 */
function describeErrors(errors: readonly ErrorObject[]): SchemaProblem[] {
  const combinators = errors.filter((error) => error.keyword === 'oneOf' || error.keyword === 'anyOf').map((error) => error.schemaPath);
  const kept = errors.filter((error) => !combinators.some((schemaPath) => error.schemaPath !== schemaPath && error.schemaPath.startsWith(`${schemaPath}/`)));
  const seen = new Set<string>();
  const problems: SchemaProblem[] = [];
  for (const error of kept) {
    const problem = describe(error);
    if (!problem) continue;
    const key = `${problem.path.join('/')}\0${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}
