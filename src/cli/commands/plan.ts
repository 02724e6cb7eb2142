import { readFile } from 'node:fs/promises';
import { computePlan, type DesiredState } from '../../plan/compute-plan.js';
import { formatPlan } from '../../plan/format-plan.js';
import { placeInstances, type Placement } from '../../plan/place-instances.js';
import { plannedFiles, type PlanTemplates } from '../../plan/planned-files.js';
import { jobValueChanges } from '../../plan/value-changes.js';
import { TEMPLATES_DIR } from '../../render/template-dir.js';
import { formatFinding, hasErrors } from '../../repo/finding.js';
import type { LoadResult } from '../../repo/load-repo.js';
import { resolveSecrets } from '../../controller/resolve-secrets.js';
import type { Model } from '../../model/types.js';
import { readSecretVersions, secretKeys, type SecretVersion } from '../../store/secret-store.js';
import { choice, type Command } from '../command.js';
import { withCluster } from '../cluster.js';
import { ETCD_OPTIONS, type EtcdFlagValues } from '../etcd-options.js';
import { createLoader, openSnapshot, REPO_OPTION, repoPath } from '../repo-options.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError } from '../usage-error.js';

type Values = EtcdFlagValues & { repo?: string; base?: string; head?: string; format?: string; output?: string };

interface ClusterBase {
  readonly ref: string;
  readonly placement: Placement;
  /** The base's jobs take the secret versions they run with, the head's the store's: a rotation shows. */
  readonly withSecrets: { readonly base: (model: Model) => Model; readonly head: (model: Model) => Model };
}

/** With --etcd, the base is the commit in force on the cluster, placed where its instances run now. */
async function clusterBase(values: Values): Promise<ClusterBase | undefined> {
  return withCluster(values, async ({ mirror, client, layout }) => {
    const sha = mirror.current()?.commit.sha;
    if (!sha) return undefined;
    const placement = new Map<string, string[]>();
    const observed = mirror.observed();
    for (const [host, jobs] of observed.assignments) for (const job of jobs.keys()) placement.set(job, [...(placement.get(job) ?? []), host].sort());
    // The read-only credential may not read secret versions: then the head keeps the versions in force.
    const versions = await readSecretVersions(client, secretKeys(layout.prefix)).then(
      (read) => read.versions,
      (error: unknown) => {
        if ((error as { code?: unknown }).code === 'E_ETCD_PERMISSION') return new Map<string, SecretVersion>();
        throw error;
      },
    );
    return {
      ref: sha,
      placement,
      withSecrets: { base: (model) => resolveSecrets(model, new Map(), observed).model, head: (model) => resolveSecrets(model, versions, observed).model },
    };
  });
}

export const planCommand: Command<Values> = {
  name: 'plan',
  summary: 'Show exactly what a change does to the fleet: instances added, updated and removed, changed values (secrets masked), config, keepalived.conf and zone file diffs.',
  usage: 'plan [--repo PATH] [--base REF | --etcd URL] [--head REF] [--format text|markdown|json]',
  options: {
    ...REPO_OPTION,
    ...ETCD_OPTIONS,
    base: { type: 'string', valueName: 'REF', description: 'the commit in force, e.g. origin/main (default: the first parent of --head; "none" for an empty fleet)' },
    head: { type: 'string', valueName: 'REF', description: 'the proposed commit (default: HEAD)' },
    format: { type: 'string', short: 'f', valueName: 'FORMAT', description: 'text (default), markdown (for a PR comment) or json' },
    output: { type: 'string', short: 'o', valueName: 'FORMAT', description: 'same as --format' },
  },
  details: [
    'Both commits are read from git objects; nothing is checked out. With --etcd, the base is the commit in force on',
    'that cluster (sync/current), with its instances where they run now. Every director\'s keepalived.conf and every zone',
    'file is rendered for both commits with the shipped templates, taking every placed instance\'s host ip:port as live.',
    'Env values whose key names a secret (pass, secret, token, key, credential) and {{secret ...}} values print as ••••.',
    'Markdown stays under 60,000 characters (a PR comment). Exit code: 0 planned, 1 the head commit is invalid (or etcd',
    'cannot be read), 2 bad usage.',
  ].join('\n'),
  async run(values, _positionals, io) {
    const format = choice(values.format ?? values.output, 'format', ['text', 'markdown', 'json'], 'text');
    const path = repoPath(values);
    const headRef = values.head ?? 'HEAD';
    if (values.etcd !== undefined && values.base !== undefined) throw new UsageError('--base and --etcd both name the base: give one');
    const cluster = values.etcd !== undefined ? await clusterBase(values) : undefined;
    const baseRef = cluster?.ref ?? (values.etcd !== undefined ? 'none' : (values.base ?? `${headRef}~1`));
    const loader = createLoader();
    const { snapshot: baseSnapshot } = baseRef === 'none' ? { snapshot: undefined } : await openSnapshot(path, baseRef).catch((error: unknown) => {
      // A first commit has no parent: plan it against an empty fleet.
      if (values.base === undefined) return { snapshot: undefined };
      throw error;
    });
    const { snapshot: headSnapshot } = await openSnapshot(path, headRef);
    let base: DesiredState | undefined;
    if (baseSnapshot) {
      const loaded = await loader.load(baseSnapshot);
      if (loaded.model && loaded.index) base = { model: cluster?.withSecrets.base(loaded.model) ?? loaded.model, index: loaded.index, placement: cluster?.placement ?? placeInstances(loaded.model, loaded.index) };
      else io.stderr(`warning: base ${baseRef} does not validate (${countErrors(loaded)} errors): planning against an empty fleet`);
    }
    const head = await loader.load(headSnapshot);
    if (hasErrors(head.findings) || !head.model || !head.index) {
      for (const finding of head.findings) io.stderr(formatFinding(finding));
      io.stderr(`head ${headRef} is invalid: ${countErrors(head)} error(s); nothing can be planned`);
      return EXIT_FINDINGS;
    }
    const headModel = cluster?.withSecrets.head(head.model) ?? head.model;
    const headState: DesiredState = { model: headModel, index: head.index, placement: placeInstances(headModel, head.index, base?.placement) };
    const plan = computePlan(base, headState);
    const extras = { values: jobValueChanges(base, headState), files: plannedFiles(base, headState, await shippedTemplates()) };
    io.stdout(formatPlan(plan, { ...(baseSnapshot?.commit ? { base: baseSnapshot.commit.sha } : {}), head: head.commit!.sha }, format, extras));
    return EXIT_OK;
  },
};

function countErrors(result: LoadResult): number {
  return result.findings.filter((finding) => finding.severity === 'error').length;
}

async function shippedTemplates(): Promise<PlanTemplates> {
  const [keepalived, zone] = await Promise.all(['keepalived.conf.hbs', 'dns-zone.hbs'].map((file) => readFile(new URL(file, TEMPLATES_DIR), 'utf8')));
  return { keepalived: keepalived!, zone: zone! };
}
