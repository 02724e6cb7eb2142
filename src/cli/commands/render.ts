// ygg render keepalived|dns|prometheus: renders a config (or the zone file of a Zone the commit in
// force declares, zones/<origin>, or a Prometheus target file from the agents' metrics addresses) from
// the VIPs and live endpoints in etcd, then follows them (debounced) until stopped, or once with
// --once. Check and reload commands are argv, split on
// whitespace with {file} substituted, and never go through a shell.
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { DEFAULT_MAX_WAIT_MS, DEFAULT_MIN_WAIT_MS, type RenderStatusRecord } from '../../render/debounced-renderer.js';
import { DEFAULT_MAX_REMOVED_PERCENT } from '../../render/render-gate.js';
import { runRenderer } from '../../render/run-renderer.js';
import { TEMPLATES_DIR } from '../../render/template-dir.js';
import type { Command, CommandIo } from '../command.js';
import { parseDurationMs } from '../duration.js';
import { ETCD_OPTIONS, etcdConnectionFromFlags, type EtcdFlagValues } from '../etcd-options.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError } from '../usage-error.js';
import { renderWriteOptions } from './render-write-options.js';
import { logCrashesTo } from '../last-resort.js';
import { LOG_LEVEL_OPTION, logLevel, untilStopped } from '../service-options.js';

type RenderValues = EtcdFlagValues & {
  director?: string;
  zone?: string;
  out?: string;
  template?: string;
  check?: string;
  reload?: string;
  once?: boolean;
  'allow-mass-removal'?: boolean;
  'max-removed-percent'?: string;
  'min-wait'?: string;
  'max-wait'?: string;
  'log-level'?: string;
};

export const renderCommand: Command<RenderValues> = {
  name: 'render',
  summary: 'Render keepalived.conf (or the zone file of a Zone in the repo, or a Prometheus target file) from the VIPs and live endpoints in etcd, and keep it current.',
  usage: 'render keepalived --director NAME --out FILE | render dns --zone ZONE --out FILE | render prometheus --out FILE  [--etcd URL] [--template FILE] [--check CMD] [--reload CMD] [--once] [--allow-mass-removal] [--max-removed-percent N]',
  positionals: ['keepalived|dns|prometheus'],
  options: {
    ...ETCD_OPTIONS,
    director: { type: 'string', valueName: 'NAME', description: 'keepalived: the director host this config is for' },
    zone: { type: 'string', valueName: 'ZONE', description: 'dns: the origin of a Zone document of the commit in force, e.g. svc.example.net (its name servers, TTL and SOA come from it)' },
    out: { type: 'string', valueName: 'FILE', description: 'the file to write (atomically, keeping one .bak)' },
    template: { type: 'string', valueName: 'FILE', description: 'handlebars template (default: the shipped one; keepalived and dns only)' },
    check: { type: 'string', valueName: 'CMD', description: 'validate the temp file before it replaces FILE; {file} is its path (defaults when installed: keepalived -t, named-checkzone, promtool check config on a scrape config reading the file)' },
    reload: { type: 'string', valueName: 'CMD', description: 'run after the content changed (keepalived default: SIGHUP to the pid in /run/keepalived.pid when it exists)' },
    once: { type: 'boolean', description: 'render once and exit (1 when the render failed)' },
    'allow-mass-removal': { type: 'boolean', description: 'let a render remove every virtual server, or most real servers, at once without a commit that removed them' },
    'max-removed-percent': { type: 'string', valueName: 'N', description: `hold a render that removes more than N% of the file's real servers at once (default ${DEFAULT_MAX_REMOVED_PERCENT})` },
    'min-wait': { type: 'string', valueName: 'DURATION', description: 'render this long after the last change (default 200ms)' },
    'max-wait': { type: 'string', valueName: 'DURATION', description: 'but no later than this after the first change of a burst (default 2s)' },
    ...LOG_LEVEL_OPTION,
  },
  details: [
    'Without --once it runs until SIGINT/SIGTERM and publishes its state to status/<director>/_render (not a job: job names have no "_")',
    '(keepalived only). The file on disk is the reference: a render is HELD (the file stays, loudly) when etcd looks wiped or',
    'reset, or when it would remove every virtual server or most real servers at once without a commit that removed them.',
    'A director that no VIP and no host names is an error (exit 1), and the file is not touched. So is a --zone no Zone',
    'document of the commit in force declares: the controller publishes each Zone to zones/<origin>, with its name servers.',
    'prometheus: a file_sd JSON file with a target group per live instance endpoint (labels: job, its tree levels, host,',
    'idc) and per agent /metrics address (host, idc); __meta_ygg_target is "instance" or "agent" for relabelling.',
  ].join('\n'),
  async run(values, positionals, io) {
    const kind = positionals[0];
    if (kind !== 'keepalived' && kind !== 'dns' && kind !== 'prometheus') throw new UsageError('expected "keepalived", "dns" or "prometheus"');
    if (kind === 'prometheus' && values.template !== undefined) throw new UsageError('--template: the prometheus target file is JSON built in code, not from a template');
    if (!values.out) throw new UsageError('--out FILE is required');
    if (kind === 'keepalived' && !values.director) throw new UsageError('--director NAME is required');
    if (kind === 'dns' && !values.zone) throw new UsageError('--zone ZONE is required');
    // an FQDN as people write it in DNS ("svc.example.net.") names the same zone
    const zone = values.zone?.replace(/\.$/, '');
    const minWaitMs = values['min-wait'] ? parseDurationMs(values['min-wait'], 'min-wait') : DEFAULT_MIN_WAIT_MS;
    const maxWaitMs = values['max-wait'] ? parseDurationMs(values['max-wait'], 'max-wait') : DEFAULT_MAX_WAIT_MS;
    const maxRemovedPercent = values['max-removed-percent'] === undefined ? DEFAULT_MAX_REMOVED_PERCENT : percent(values['max-removed-percent'], 'max-removed-percent');
    const templateText = kind === 'prometheus' ? '' : readTemplate(values.template ?? new URL(kind === 'keepalived' ? 'keepalived.conf.hbs' : 'dns-zone.hbs', TEMPLATES_DIR));
    const write = await renderWriteOptions(kind, zone, values.check, values.reload);
    const { connection, prefix } = etcdConnectionFromFlags(values);
    const logger = pino({ level: logLevel(values), base: { component: `render-${kind}`, ...(values.director && { director: values.director }) } });
    if (!values.once) logCrashesTo(logger);
    const abort = new AbortController();
    const running = await runRenderer(
      {
        kind,
        etcd: connection,
        etcdPrefix: prefix,
        ...(values.director ? { director: values.director } : {}),
        ...(zone ? { zone } : {}),
        target: values.out,
        templateText,
        write,
        minWaitMs,
        maxWaitMs,
        logger,
        ...(values.once ? { once: true } : {}),
        allowMassRemoval: values['allow-mass-removal'] === true,
        maxRemovedPercent,
      },
      abort.signal,
    );
    try {
      if (values.once) return outcome(await running.renderer.renderNow(), io);
      await running.renderer.start();
      // A typo in --director is no state to wait out: nothing would ever render.
      // A zone is known once the controller has published a commit: before that, wait for it.
      const code = running.renderer.status.lastErrorCode;
      if (code === 'E_RENDER_UNKNOWN_DIRECTOR' || (code === 'E_RENDER_UNKNOWN_ZONE' && running.view.facts().syncCommit !== undefined)) return outcome(running.renderer.status, io);
      await untilStopped();
      return EXIT_OK;
    } finally {
      abort.abort();
      await running.close();
    }
  },
};

/** --once: 0 when the file is in place, else 1 and the reason on stderr (the file was not touched). */
function outcome(status: RenderStatusRecord, io: CommandIo): number {
  if (status.lastError !== undefined) io.stderr(`ygg render: ${status.lastError}`);
  else if (status.held) io.stderr(`ygg render: held, ${status.target} not changed: ${status.heldReason ?? ''}`);
  else return EXIT_OK;
  return EXIT_FINDINGS;
}

function readTemplate(file: string | URL): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--template: cannot read ${String(file)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

function percent(text: string, flag: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 100) throw new UsageError(`--${flag} must be a number from 0 to 100, got "${text}"`);
  return value;
}
