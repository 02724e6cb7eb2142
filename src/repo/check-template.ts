// Static check of a handlebars template against the variables an instance will have, so a typo
// fails `ygg validate` instead of a deploy on some host later.
import Handlebars from 'handlebars';
import { parseTag, TagSyntaxError, TAG_LEVELS } from '../model/tag.js';
import type { Job } from '../model/types.js';

type AstNode = { type: string; [key: string]: unknown };

const BLOCK_HELPERS = new Set(['if', 'unless', 'each', 'with']);
const FIELDS: Readonly<Record<string, readonly string[] | 'any'>> = {
  host: ['name', 'ip', 'labels'],
  job: ['name', 'tag', 'version'],
  dirs: ['release', 'data', 'log'],
  tags: TAG_LEVELS,
  ports: 'any',
};

export interface TemplateVariables {
  readonly portNames: readonly string[];
  /** The levels the job's tag has (servicegroup is optional); all levels when unknown. */
  readonly tagLevels?: readonly string[];
}

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
  /** Host labels the template reads (`host.labels.idc`): every host it renders on needs them. */
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

function analyzeTemplate(template: string, variables: TemplateVariables): TemplateAnalysis {
  let program: AstNode;
  try {
    program = Handlebars.parse(template) as unknown as AstNode;
  } catch (error) {
    return { problems: [`template syntax: ${(error as Error).message.split('\n')[0]}`], labels: [] };
  }
  const problems: string[] = [];
  const labels = new Set<string>();
  /** `output`: the value is printed, so it must be a scalar, not an object like `host` or `ports`. */
  const checkPath = (path: AstNode, scoped: boolean, output: boolean) => {
    if (path.type !== 'PathExpression') return;
    const parts = path.parts as string[];
    const original = path.original as string;
    if (path.data || scoped || parts.length === 0) return; // @index/@key, or a relative path inside #each/#with
    const [root, field, ...rest] = parts;
    const fields = FIELDS[root!];
    if (!fields) {
      problems.push(`unknown template variable "${original}" (known: ${Object.keys(FIELDS).join(', ')})`);
    } else if (field === undefined) {
      if (output) problems.push(`"${original}" is an object: name one of its fields${fields === 'any' ? ` (ports: ${variables.portNames.join(', ') || 'none'})` : ` (${fields.join(', ')})`}`);
    } else if (root === 'ports' && !variables.portNames.includes(field)) {
      problems.push(`unknown port "${field}" in "${original}" (ports: ${variables.portNames.join(', ') || 'none'})`);
    } else if (root === 'tags' && variables.tagLevels && !variables.tagLevels.includes(field)) {
      problems.push(`the job's tag has no level "${field}" in "${original}" (levels: ${variables.tagLevels.join(', ')})`);
    } else if (fields !== 'any' && !fields.includes(field)) {
      problems.push(`unknown field "${field}" in "${original}" (${root} has ${fields.join(', ')})`);
    } else if (rest.length > 0 && !(root === 'host' && field === 'labels' && rest.length === 1)) {
      problems.push(`"${original}" goes deeper than the variable`);
    } else if (output && root === 'host' && field === 'labels' && rest.length === 0) {
      problems.push(`"${original}" is an object: name a label, e.g. host.labels.idc`);
    } else if (root === 'host' && field === 'labels' && rest.length === 1) {
      labels.add(rest[0]!);
    }
  };
  const visit = (node: AstNode | undefined, scoped: boolean) => {
    if (!node) return;
    switch (node.type) {
      case 'Program':
        for (const statement of node.body as AstNode[]) visit(statement, scoped);
        return;
      case 'MustacheStatement':
      case 'SubExpression': {
        const params = node.params as AstNode[];
        const path = node.path as AstNode;
        if (params.length > 0 || (node.hash as AstNode | undefined)) {
          problems.push(`unknown helper "${path.original as string}" (only variables and #if/#unless/#each/#with are allowed)`);
        } else {
          checkPath(path, scoped, node.type === 'MustacheStatement');
        }
        return;
      }
      case 'BlockStatement': {
        const name = (node.path as AstNode).original as string;
        if (!BLOCK_HELPERS.has(name)) {
          problems.push(`unknown block helper "#${name}" (allowed: ${[...BLOCK_HELPERS].map((helper) => `#${helper}`).join(', ')})`);
          return;
        }
        for (const param of node.params as AstNode[]) checkPath(param, scoped, false);
        const changesContext = name === 'each' || name === 'with';
        visit(node.program as AstNode | undefined, scoped || changesContext);
        visit(node.inverse as AstNode | undefined, scoped);
        return;
      }
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
  visit(program, false);
  return { problems, labels: [...labels].sort() };
}
