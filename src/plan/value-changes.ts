// The values a change edits, per job, as the repo declares them (templates unrendered: the rendered
// differences per host are the config diffs): env, ports, command, files, health and the rest, old →
// new. A PR comment is public to everyone who can read the repo, so secrets never reach it: an env
// key that names one (pass, secret, token, key, credential) and any value taken from `{{secret …}}`
// print as •••• with only whether they changed, and an artifact or dependency URL shows with its
// `user:password@` hidden. Pure.
import type { Job, JobSpec } from '../model/types.js';
import { canonicalJson } from './canonical-json.js';
import type { DesiredState } from './compute-plan.js';
import { jobSecrets } from '../model/secret-references.js';
import { isSecretEnv, isSecretName, mentionsSecret } from '../model/secret-values.js';
import { redactUrl } from '../util/redact-url.js';

export const MASK = '••••';

export interface ValueChange {
  /** e.g. `env.LOG_LEVEL`, `ports.http`, `command`, `configs[conf/app.yaml]`. */
  readonly field: string;
  /** Absent: the value is new. Masked values are MASK. */
  readonly before?: string;
  /** Absent: the value is gone. */
  readonly after?: string;
  /** Set when secret parts were masked: whether those parts changed. */
  readonly secret?: 'changed' | 'unchanged';
}

export interface JobValueChanges {
  readonly job: string;
  readonly changes: readonly ValueChange[];
}

/** One declared value, flattened: its text as shown, and its secret parts (compared, never shown). */
interface FlatValue {
  readonly shown: string;
  readonly secrets: readonly string[];
}

/** An argv as one line, each secret argument masked. */
function argv(args: readonly string[]): FlatValue {
  const secrets = args.filter((arg) => mentionsSecret(arg));
  return { shown: args.map((arg) => (mentionsSecret(arg) ? MASK : /[\s"]/.test(arg) || arg === '' ? JSON.stringify(arg) : arg)).join(' '), secrets };
}

const plain = (shown: string): FlatValue => ({ shown, secrets: [] });

/** A fetched file: where from (credentials hidden, but a change to them still noticed) and its digest. */
function download(address: string, sha256: string): FlatValue {
  const shown = redactUrl(address);
  return { shown: `${shown} sha256:${sha256.slice(0, 12)}`, secrets: shown === address ? [] : [address] };
}

/** A spec as field → value; the order is the order changes are listed in. */
function flatten(spec: JobSpec, tag: string): Map<string, FlatValue> {
  const values = new Map<string, FlatValue>();
  values.set('version', plain(spec.version));
  values.set('tag', plain(tag));
  values.set('artifact', download(spec.artifact.path ?? spec.artifact.url ?? '', spec.artifact.sha256));
  values.set('command', argv(spec.command));
  for (const [key, value] of Object.entries(spec.env).sort(([a], [b]) => (a < b ? -1 : 1))) {
    values.set(`env.${key}`, isSecretEnv(key, value) ? { shown: MASK, secrets: [value] } : plain(value));
  }
  for (const [name, port] of Object.entries(spec.ports).sort(([a], [b]) => (a < b ? -1 : 1))) values.set(`ports.${name}`, plain(String(port)));
  // A template's text is its config diff's business; here it is only there or not, and changed or not.
  for (const config of spec.configs) values.set(`configs[${config.path}]`, { shown: `template${config.mode ? `, mode ${config.mode}` : ''}`, secrets: [config.template] });
  for (const dependency of spec.dependencies) values.set(`dependencies[${dependency.path}]`, download(dependency.source ?? dependency.url ?? '', dependency.sha256));
  for (const task of spec.cron) {
    const command = argv(task.command);
    values.set(`cron.${task.name}`, { shown: `"${task.schedule}" ${command.shown}${task.timeoutSeconds ? ` (timeout ${task.timeoutSeconds}s)` : ''}`, secrets: command.secrets });
  }
  // A secret shows as its version (the controller's, or the store's for a plan against a cluster), never its value.
  for (const name of jobSecrets(spec)) {
    const version = spec.secretVersions?.[name];
    values.set(`secret ${name}`, plain(version ? `version ${version.version}` : 'from the store'));
  }
  if (spec.health) values.set('health', plain(canonicalJson(spec.health)));
  if (spec.resources) values.set('resources', plain(canonicalJson(spec.resources)));
  values.set('replicas', plain(spec.replicas === undefined ? 'every online host' : String(spec.replicas)));
  values.set('rollout', plain(canonicalJson(spec.rollout)));
  return values;
}

function diffValues(before: Map<string, FlatValue> | undefined, after: Map<string, FlatValue>): ValueChange[] {
  const changes: ValueChange[] = [];
  const fields = [...after.keys(), ...[...(before?.keys() ?? [])].filter((field) => !after.has(field))];
  for (const field of fields) {
    const old = before?.get(field);
    const next = after.get(field);
    const secretsChanged = canonicalJson(old?.secrets ?? []) !== canonicalJson(next?.secrets ?? []);
    if (old?.shown === next?.shown && !secretsChanged) continue;
    const hasSecrets = (old?.secrets.length ?? 0) + (next?.secrets.length ?? 0) > 0;
    // Config templates carry their text as the "secret" part only to notice a change: not a secret.
    const isTemplate = field.startsWith('configs[');
    changes.push({
      field,
      ...(old && { before: old.shown }),
      ...(next && { after: next.shown }),
      ...(hasSecrets && !isTemplate && old && next && { secret: secretsChanged ? 'changed' : 'unchanged' }),
    });
  }
  return changes;
}

/** Jobs of both states whose declared values differ, by name; a job's own spec only (placement is the actions'). */
export function jobValueChanges(base: DesiredState | undefined, head: DesiredState): JobValueChanges[] {
  const result: JobValueChanges[] = [];
  for (const [name, job] of [...head.model.jobs].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const previous: Job | undefined = base?.model.jobs.get(name);
    if (!previous || previous === job) continue;
    const changes = diffValues(flatten(previous.spec, previous.tag), flatten(job.spec, job.tag));
    if (changes.length > 0) result.push({ job: name, changes });
  }
  return result;
}

/**
 * Masks the value of `key: value` / `key=value` lines whose key names a secret, in a rendered config
 * diff (a template may write a password it got from env into a file).
 */
export function maskSecretLines(diff: string): string {
  return diff
    .split('\n')
    .map((line) => {
      const match = /^([-+ ]\s*["']?([A-Za-z0-9_.-]+)["']?\s*[:=]\s*)(.+)$/.exec(line);
      if (!match || line.startsWith('---') || line.startsWith('+++') || !isSecretName(match[2]!)) return line;
      return `${match[1]}${MASK}`;
    })
    .join('\n');
}
