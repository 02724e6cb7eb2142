// Static check of a handlebars template against the variables an instance will have, so a typo
// fails `ygg validate` instead of a deploy on some host later. It follows the template the way
// handlebars renders it in strict mode (see renderInstance): the context each #each/#with sets,
// `../`, block params, @data variables; whatever would throw there is a problem here.
import Handlebars from 'handlebars';
import { parseTag, TagSyntaxError, TAG_LEVELS } from '../model/tag.js';
import type { Job } from '../model/types.js';
import { SECRET_HELPER, SECRET_NAME } from '../model/secret-references.js';
import { contextType, elementType, SCALAR, UNKNOWN, type TemplateType, type TemplateVariables } from './template-variables.js';

export type { TemplateVariables } from './template-variables.js';

type AstNode = { type: string; [key: string]: unknown };

const BLOCK_HELPERS = new Set(['if', 'unless', 'each', 'with']);
/** Data variables #each sets for its body. */
const EACH_DATA = new Set(['key', 'index', 'first', 'last']);
/** Handlebars' own test for `this.x` / `./x`: such a path never names a block param. */
const SCOPED = /^\.|this\b/;
const LITERALS = new Set(['StringLiteral', 'NumberLiteral', 'BooleanLiteral', 'NullLiteral', 'UndefinedLiteral']);

const jobVariables = new WeakMap<Job, TemplateVariables>();

/** The variables a job's templates can use (remembered per job object: unchanged blobs, same object). */
export function jobTemplateVariables(job: Job): TemplateVariables {
  let variables = jobVariables.get(job);
  if (variables) return variables;
  let tagLevels: readonly string[] = TAG_LEVELS;
  try {
    tagLevels = parseTag(job.tag).map((segment) => segment.level);
  } catch (error) {
    if (!(error instanceof TagSyntaxError)) throw error; // reported on its own
  }
  variables = { portNames: Object.keys(job.spec.ports), tagLevels };
  jobVariables.set(job, variables);
  return variables;
}

interface TemplateAnalysis {
  readonly problems: readonly string[];
  /** Host labels the template prints (`host.labels.idc`): every host it renders on needs them. */
  readonly labels: readonly string[];
}

const NOTHING: TemplateAnalysis = { problems: [], labels: [] };
const MAX_REMEMBERED = 50_000;
const remembered = new Map<string, TemplateAnalysis>();

/** Thousands of jobs share a handful of templates, so analyses are remembered by template and port names. */
function analyze(template: string, variables: TemplateVariables): TemplateAnalysis {
  if (!template.includes('{{')) return NOTHING;
  const key = `${variables.portNames.join(',')}\0${variables.tagLevels?.join(',') ?? ''}\0${template}`;
  let analysis = remembered.get(key);
  if (!analysis) {
    if (remembered.size >= MAX_REMEMBERED) remembered.clear();
    analysis = analyzeTemplate(template, variables);
    remembered.set(key, analysis);
  }
  return analysis;
}

/** Problems in one template; empty when it only uses known variables and helpers. */
export function checkTemplate(template: string, variables: TemplateVariables): readonly string[] {
  return analyze(template, variables).problems;
}

export function templateLabels(template: string, variables: TemplateVariables): readonly string[] {
  // Most templates read no label: skip the parse (a label path always spells "labels").
  if (!template.includes('labels')) return NOTHING.labels;
  return analyze(template, variables).labels;
}

/** Where a path is resolved, as handlebars sees it at that point of the template. */
interface Scope {
  /** The contexts #each/#with pushed, outermost (the template's context) first: `../` steps back one. */
  readonly contexts: readonly TemplateType[];
  /** Block params (`as |value key|`) by name, innermost block last. */
  readonly blockParams: readonly ReadonlyMap<string, TemplateType>[];
  /** Enclosing #each blocks: @key, @index, @first, @last (and `@../key`) need them. */
  readonly eachDepth: number;
  /** Labels an enclosing #if tested, so printing them cannot fail. */
  readonly guarded: ReadonlySet<string>;
}

/** How a path is used: printed (strict: a missing name throws) or as a block helper's argument (missing is falsy). */
type Use = 'print' | 'argument';

interface Resolved {
  readonly type: TemplateType;
  /** The label the path ends on (`host.labels.zone`), for #if guards. */
  readonly label?: string;
}

function analyzeTemplate(template: string, variables: TemplateVariables): TemplateAnalysis {
  let program: AstNode;
  try {
    program = Handlebars.parse(template) as unknown as AstNode;
  } catch (error) {
    return { problems: [`template syntax: ${(error as Error).message.split('\n')[0]}`], labels: [] };
  }
  const problems: string[] = [];
  const labels = new Set<string>();

  const resolvePath = (path: AstNode, scope: Scope, use: Use): Resolved | undefined => {
    const parts = path.parts as string[];
    const original = path.original as string;
    const depth = path.depth as number;
    let type: TemplateType | undefined;
    let rest = parts;
    if (path.data) {
      const [name = '', ...below] = parts;
      if (name === 'root' && depth === 0) {
        type = scope.contexts[0]!;
        rest = below;
      } else if (EACH_DATA.has(name)) {
        if (depth >= scope.eachDepth) return void problems.push(`"@${original.replace(/^@/, '')}" is only set inside ${depth > 0 ? `${depth + 1} nested ` : ''}#each`);
        type = SCALAR;
        rest = below;
      } else {
        return void problems.push(`unknown data variable "${original}" (known: @root, @key, @index, @first, @last)`);
      }
    } else {
      const blockParam = depth === 0 && parts.length > 0 && !SCOPED.test(original) ? findBlockParam(scope, parts[0]!) : undefined;
      if (blockParam) {
        type = blockParam;
        rest = parts.slice(1);
      } else {
        type = scope.contexts[scope.contexts.length - 1 - depth];
        if (!type) return void problems.push(`"${original}" steps above the template's context (too many ../)`);
      }
    }
    let label: string | undefined;
    for (const [index, part] of rest.entries()) {
      label = undefined;
      if (type.kind === 'unknown') return { type };
      if (type.kind === 'scalar') {
        // Nothing read yet: the context itself (#each over ports, #with host.ip) is the single value.
        const what = index === 0 && rest === parts ? 'the context here is a single value' : 'goes deeper than the variable';
        return void problems.push(`"${original}" ${what}`);
      }
      if (type.kind === 'labels') {
        label = part;
        if (use === 'print' && !scope.guarded.has(part)) labels.add(part);
        type = SCALAR;
        continue;
      }
      const field: TemplateType | undefined = type.fields.get(part);
      if (!field) return void problems.push(type.unknownField(part, original));
      type = field;
    }
    return { type, ...(label !== undefined ? { label } : {}) };
  };

  /** A block helper's argument: a path, or a literal (a constant condition); undefined when reported. */
  const resolveArgument = (argument: AstNode, scope: Scope): Resolved | undefined => {
    if (argument.type === 'PathExpression') return resolvePath(argument, scope, 'argument');
    if (LITERALS.has(argument.type)) return { type: SCALAR };
    return void problems.push(`subexpression "(${String((argument.path as AstNode | undefined)?.original ?? '')} ...)" calls a helper: templates have none`);
  };

  const visitMustache = (node: AstNode, scope: Scope) => {
    const path = node.path as AstNode;
    if (path.original === SECRET_HELPER && path.type === 'PathExpression' && ((node.params as AstNode[]).length > 0 || node.hash)) {
      const problem = secretCallProblem(node);
      return void (problem && problems.push(problem));
    }
    if ((node.params as AstNode[]).length > 0 || node.hash) {
      return void problems.push(`unknown helper "${String(path.original)}" (only variables, {{secret "name"}} and #if/#unless/#each/#with are allowed)`);
    }
    if (path.type !== 'PathExpression') {
      return void problems.push(`"{{${String(path.original)}}}" is a literal, which handlebars looks up as a variable and fails: write the text outside {{ }}`);
    }
    const resolved = resolvePath(path, scope, 'print');
    if (resolved?.type.kind === 'record') problems.push(resolved.type.printedWhole(path.original as string));
    else if (resolved?.type.kind === 'labels') problems.push(`"${String(path.original)}" is an object: name a label, e.g. host.labels.idc`);
  };

  const visitBlock = (node: AstNode, scope: Scope) => {
    const name = (node.path as AstNode).original as string;
    if (!BLOCK_HELPERS.has(name)) {
      return void problems.push(`unknown block helper "#${name}" (allowed: ${[...BLOCK_HELPERS].map((helper) => `#${helper}`).join(', ')})`);
    }
    const params = node.params as AstNode[];
    if (params.length !== 1) problems.push(`#${name} takes exactly one argument, found ${params.length}`);
    const argument = params.length === 1 ? resolveArgument(params[0]!, scope) : undefined;
    const program = node.program as AstNode | undefined;
    const inverse = node.inverse as AstNode | undefined;
    if (name === 'if' || name === 'unless') {
      // The branch that runs only when the label is set may print it on hosts without it.
      const guarded = argument?.label !== undefined ? { ...scope, guarded: new Set([...scope.guarded, argument.label]) } : scope;
      visit(program, name === 'if' ? guarded : scope);
      visit(inverse, name === 'unless' ? guarded : scope);
      return;
    }
    const type = argument?.type ?? UNKNOWN;
    if (name === 'each' && type.kind === 'scalar') {
      problems.push(`#each over "${String(params[0]!.original)}", a single value, renders nothing: iterate over a map such as ports or host.labels`);
    }
    const context = name === 'each' ? elementType(type) : type;
    const names = (program?.blockParams as string[] | undefined) ?? [];
    const paramTypes = name === 'each' ? [context, SCALAR] : [context];
    const blockParams = new Map(names.slice(0, paramTypes.length).map((param, index) => [param, paramTypes[index]!]));
    visit(program, {
      contexts: [...scope.contexts, context],
      blockParams: [...scope.blockParams, blockParams],
      eachDepth: scope.eachDepth + (name === 'each' ? 1 : 0),
      guarded: scope.guarded,
    });
    visit(inverse, scope); // the else branch keeps the outer context
  };

  const visit = (node: AstNode | undefined, scope: Scope): void => {
    if (!node) return;
    switch (node.type) {
      case 'Program':
        for (const statement of node.body as AstNode[]) visit(statement, scope);
        return;
      case 'MustacheStatement':
        return visitMustache(node, scope);
      case 'BlockStatement':
        return visitBlock(node, scope);
      case 'PartialStatement':
      case 'PartialBlockStatement':
      case 'DecoratorBlock':
      case 'Decorator':
        problems.push('partials and decorators are not allowed in templates');
        return;
      default:
        return; // content and comments
    }
  };
  visit(program, { contexts: [contextType(variables)], blockParams: [], eachDepth: 0, guarded: new Set() });
  return { problems, labels: [...labels].sort() };
}

function findBlockParam(scope: Scope, name: string): TemplateType | undefined {
  for (let index = scope.blockParams.length - 1; index >= 0; index--) {
    const type = scope.blockParams[index]!.get(name);
    if (type) return type;
  }
  return undefined;
}

/**
 * A `{{secret …}}` call must name its secret as a quoted literal: the controller, the agent and
 * etcd-setup read the names off the template before anything renders, so a name computed at render
 * time could not be versioned, fetched or granted.
 */
function secretCallProblem(node: AstNode): string | undefined {
  const params = node.params as AstNode[];
  if (params.length !== 1 || node.hash) return 'secret takes exactly one quoted name, e.g. {{secret "db-password"}}';
  const argument = params[0]!;
  if (argument.type !== 'StringLiteral') {
    return `secret needs a quoted name, not ${argument.type === 'PathExpression' ? `the variable "${String(argument.original)}"` : 'an expression'}: which secrets a job reads must be known before it runs, e.g. {{secret "db-password"}}`;
  }
  const name = argument.value as string;
  if (!SECRET_NAME.test(name)) return `secret name ${JSON.stringify(name)} is invalid: 1 to 63 of a-z, 0-9, ".", "_", "-", starting with a letter or digit`;
  return undefined;
}
