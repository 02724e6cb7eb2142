// An instance's concrete spec: the job's spec with every template rendered for one host. This is
// what the agent runs and what `ygg plan` diffs. Pure: handlebars only, no I/O.
import Handlebars from 'handlebars';
import { SECRET_HELPER } from '../model/secret-references.js';
import { parseTag } from '../model/tag.js';
import type { Host, Job, JobSpec } from '../model/types.js';

/** Agents lay jobs out under their root; plans show paths under this default root. */
export const DEFAULT_AGENT_ROOT = '/var/lib/ygg';

export interface InstanceDirs {
  readonly release: string;
  readonly data: string;
  readonly log: string;
}

export function instanceDirs(root: string, job: string): InstanceDirs {
  return { release: `${root}/jobs/${job}/current`, data: `${root}/data/${job}`, log: `${root}/log/${job}` };
}

export interface InstanceSpec {
  readonly job: string;
  readonly tag: string;
  readonly version: string;
  readonly artifact: JobSpec['artifact'];
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly ports: Readonly<Record<string, number>>;
  readonly configs: readonly { readonly path: string; readonly mode?: string; readonly content: string }[];
  readonly dependencies: JobSpec['dependencies'];
  readonly cron: readonly { readonly name: string; readonly schedule: string; readonly command: readonly string[]; readonly timeoutSeconds?: number }[];
  readonly health?: JobSpec['health'];
  readonly resources?: JobSpec['resources'];
  readonly rollout: JobSpec['rollout'];
}

export class TemplateRenderError extends Error {
  readonly code = 'E_TEMPLATE_RENDER';
  constructor(
    readonly job: string,
    readonly host: string,
    readonly where: string,
    reason: string,
  ) {
    super(`job ${job} on host ${host}: ${where}: ${reason}`);
    this.name = 'TemplateRenderError';
  }
}

const MAX_COMPILED = 20_000;
const compiled = new Map<string, Handlebars.TemplateDelegate>();

/** Compiling dominates rendering, and thousands of instances share a few templates. */
function compile(template: string): Handlebars.TemplateDelegate {
  let delegate = compiled.get(template);
  if (!delegate) {
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    // Config files are not HTML: no escaping. Strict: a missing variable is an error, not "".
    delegate = Handlebars.compile(template, { noEscape: true, strict: true });
    compiled.set(template, delegate);
  }
  return delegate;
}

/**
 * What `{{secret "name"}}` renders to. The agent passes the values it read from the store; everyone
 * else (plan, console) renders without them, and the reference shows as this mark, never a value.
 */
export type SecretValues = (name: string) => string;

export const secretMark: SecretValues = (name) => `<secret ${name}>`;

export function renderInstance(job: Job, host: Host, dirs: InstanceDirs, secrets: SecretValues = secretMark): InstanceSpec {
  const { spec } = job;
  const context = {
    host: { name: host.name, ip: host.ip, labels: host.labels },
    job: { name: job.name, tag: job.tag, version: spec.version },
    ports: spec.ports,
    dirs,
    tags: Object.fromEntries(parseTag(job.tag).map((segment) => [segment.level, segment.value])),
  };
  const helpers = { [SECRET_HELPER]: (name: string) => secrets(name) };
  const render = (template: string, where: string) => {
    // Plain strings are most argv elements: skip handlebars for them.
    if (!template.includes('{{')) return template;
    try {
      return compile(template)(context, { helpers });
    } catch (error) {
      throw new TemplateRenderError(job.name, host.name, where, (error as Error).message.split('\n')[0]!);
    }
  };
  return {
    job: job.name,
    tag: job.tag,
    version: spec.version,
    artifact: spec.artifact,
    command: spec.command.map((argument, index) => render(argument, `command[${index}]`)),
    env: Object.fromEntries(Object.entries(spec.env).map(([name, value]) => [name, render(value, `env ${name}`)])),
    ports: spec.ports,
    configs: spec.configs.map((config) => ({
      path: config.path,
      ...(config.mode !== undefined ? { mode: config.mode } : {}),
      content: render(config.template, config.path),
    })),
    dependencies: spec.dependencies,
    cron: spec.cron.map((task) => ({ ...task, command: task.command.map((argument, index) => render(argument, `cron ${task.name} command[${index}]`)) })),
    ...(spec.health ? { health: spec.health } : {}),
    ...(spec.resources ? { resources: spec.resources } : {}),
    rollout: spec.rollout,
  };
}
