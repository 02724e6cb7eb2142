// Which secrets a job's templates take from the store (`{{secret "db-password"}}`): the controller
// hashes their versions into the spec, the agent reads their values, etcd-setup grants hosts read on
// them. Found by walking the handlebars tree, not by pattern, so a reference in a comment is none.
// Pure: handlebars parses, nothing else.
import Handlebars from 'handlebars';
import type { JobSpec } from './types.js';

/** The helper's name in templates. */
export const SECRET_HELPER = 'secret';

/** Secret names become etcd keys and role grants: no `/`, nothing a shell or a URL would mangle. */
export const SECRET_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

type AstNode = { type: string; [key: string]: unknown };

const MAX_REMEMBERED = 20_000;
const byTemplate = new Map<string, readonly string[]>();

/** The secret names one template (a config or an env value) references, sorted, each once. */
export function templateSecrets(template: string): readonly string[] {
  if (!template.includes(SECRET_HELPER)) return [];
  let names = byTemplate.get(template);
  if (names) return names;
  const found = new Set<string>();
  try {
    collect(Handlebars.parse(template) as unknown as AstNode, found);
  } catch {
    // A template that does not parse is the loader's finding (check-template); it references nothing.
  }
  names = [...found].sort();
  if (byTemplate.size >= MAX_REMEMBERED) byTemplate.clear();
  byTemplate.set(template, names);
  return names;
}

function collect(node: AstNode | undefined, found: Set<string>): void {
  if (!node) return;
  if (node.type === 'Program') {
    for (const statement of node.body as AstNode[]) collect(statement, found);
  } else if (node.type === 'MustacheStatement') {
    const name = secretArgument(node);
    if (name !== undefined) found.add(name);
  } else if (node.type === 'BlockStatement') {
    collect(node.program as AstNode | undefined, found);
    collect(node.inverse as AstNode | undefined, found);
  }
}

/** The literal name of a `{{secret "name"}}` statement; undefined for anything else. */
export function secretArgument(node: AstNode): string | undefined {
  const path = node.path as AstNode;
  const params = node.params as AstNode[];
  if (path.type !== 'PathExpression' || path.original !== SECRET_HELPER || params.length !== 1) return undefined;
  const argument = params[0]!;
  return argument.type === 'StringLiteral' && SECRET_NAME.test(argument.value as string) ? (argument.value as string) : undefined;
}

const bySpec = new WeakMap<JobSpec, readonly string[]>();

/** Every secret a job's configs and env reference, sorted (remembered per spec object). */
export function jobSecrets(spec: JobSpec): readonly string[] {
  let names = bySpec.get(spec);
  if (names) return names;
  const all = new Set<string>();
  for (const config of spec.configs) for (const name of templateSecrets(config.template)) all.add(name);
  for (const value of Object.values(spec.env)) for (const name of templateSecrets(value)) all.add(name);
  names = [...all].sort();
  bySpec.set(spec, names);
  return names;
}
