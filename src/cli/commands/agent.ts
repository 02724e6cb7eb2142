import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import pino, { type Logger } from 'pino';
import { createAgentMetrics, type InstanceSample } from '../../agent/agent-metrics.js';
import { currentTwinRole, keepTwinAlive, type Twin, type TwinOptions } from '../../agent/agent-watchdog.js';
import { HostClaimedError } from '../../agent/host-claim.js';
import { HostAgent } from '../../agent/host-agent.js';
import { DEFAULT_MAX_WAIT_MS, DEFAULT_MIN_WAIT_MS, type RenderStatusRecord } from '../../render/debounced-renderer.js';
import { registerRenderMetrics } from '../../render/render-metrics.js';
import { runRenderer, type RunningRenderer } from '../../render/run-renderer.js';
import type { EtcdConnectionOptions } from '../../store/etcd-connection.js';
import type { StatusRecord } from '../../store/records.js';
import { TEMPLATES_DIR } from '../../render/template-dir.js';
import { renderWriteOptions } from './render-write-options.js';
import type { Command } from '../command.js';
import { parseDurationMs } from '../duration.js';
import { ETCD_OPTIONS, etcdConnectionFromFlags, type EtcdFlagValues } from '../etcd-options.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError } from '../usage-error.js';
import { formatHostPort, listenOn } from '../../server/listen-address.js';
import { logCrashesTo } from '../last-resort.js';
import { packageVersion } from '../package-version.js';
import { LOG_LEVEL_OPTION, listenFlag, logLevel, untilStopped, withListenHint } from '../service-options.js';

type Values = EtcdFlagValues & {
  host?: string;
  root?: string;
  controller?: string;
  'metrics-listen'?: string;
  'lease-ttl'?: string;
  'log-level'?: string;
  'no-watchdog'?: boolean;
  'render-keepalived'?: string;
};

export const AGENT_VERSION = packageVersion();

export const agentCommand: Command<Values> = {
  name: 'agent',
  summary: 'Run the host agent: deploy, supervise, health-check and register what etcd assigns to this host (runs until stopped).',
  usage: 'agent --host NAME --root DIR [--etcd URL[,URL]] [--controller URL] [--metrics-listen [HOST]:PORT]',
  options: {
    host: { type: 'string', valueName: 'NAME', description: 'this host, as named in the repo (default: the hostname)' },
    root: { type: 'string', valueName: 'DIR', description: 'where jobs live: jobs/<job>/releases, data/<job>, log/<job> (absolute)' },
    ...ETCD_OPTIONS,
    controller: { type: 'string', valueName: 'URL', description: "the controller's HTTP address, to fetch repo files (artifacts by path) from /content/<sha256>" },
    'metrics-listen': { type: 'string', valueName: '[HOST]:PORT', description: 'serve /metrics and /healthz (default: 127.0.0.1:9102)' },
    'lease-ttl': { type: 'string', valueName: 'DURATION', description: 'lease of agents/<host> and naming entries (default: 10s)' },
    ...LOG_LEVEL_OPTION,
    'no-watchdog': { type: 'boolean', description: 'do not start the twin watchdog (e.g. under systemd, which restarts the agent itself)' },
    'render-keepalived': { type: 'string', valueName: 'FILE', description: 'on an LVS director: keep FILE (keepalived.conf) rendered from the VIPs this host directs and their live endpoints' },
  },
  details: [
    'Stopping the agent (SIGINT/SIGTERM) leaves the jobs running; the next agent adopts them (same pids).',
    'A twin watchdog process restarts the agent within a second if it dies, and the agent restarts the',
    'watchdog; both write to ROOT/log/agent.log when one started the other.',
    'When etcd is unreachable, everything keeps running as it is; the agent converges when etcd returns.',
  ].join('\n'),
  async run(values, _positionals, io) {
    if (!values.root) throw new UsageError('--root is required');
    if (!path.isAbsolute(values.root)) throw new UsageError(`--root must be an absolute path, got "${values.root}"`);
    const { connection, prefix } = etcdConnectionFromFlags(values);
    const level = logLevel(values);
    const metricsAddress = listenFlag(values['metrics-listen'], 'metrics-listen', '127.0.0.1:9102');
    const host = values.host ?? hostname();
    const twinCommand = () => [process.execPath, ...process.execArgv, process.argv[1]!, ...process.argv.slice(2)];
    if (currentTwinRole() === 'watchdog') {
      // This process is the twin: it only keeps the agent alive, until the agent stops for good.
      const watchdogLogger = pino({ level, base: { component: 'agent-watchdog', host } });
      const twin = await keepTwinAlive({ role: 'watchdog', root: values.root, command: twinCommand, onStarted: logTwinStart(watchdogLogger) });
      await untilStopped();
      twin.close();
      return EXIT_OK;
    }
    // `host` is bound here, once: the agent's own lines and its director role's never repeat it.
    const leaseTtlSeconds = Math.max(2, Math.round(parseDurationMs(values['lease-ttl'] ?? '10s', 'lease-ttl') / 1000));
    const logger = pino({ level, base: { component: 'agent', host } });
    logCrashesTo(logger);
    let reportConflict: (error: HostClaimedError) => void = () => {};
    const conflict = new Promise<HostClaimedError>((resolve) => (reportConflict = resolve));
    // The agent is made once the metrics address is bound: agents/<host> publishes the port it got.
    let agent: HostAgent | undefined;
    const metrics = createAgentMetrics(() => (agent ? instanceSamples(agent) : []), { host });
    let rendererStatus: (() => RenderStatusRecord) | undefined;
    const server = createMetricsServer(metrics);
    // Everything started so far, stopped (newest first) when a later step fails: an agent that cannot
    // start exits; its jobs keep running for the next one to adopt.
    const started: (() => unknown)[] = [];
    const renderAbort = new AbortController();
    let director: Promise<RunningRenderer | undefined> | undefined;
    let twin: Twin | undefined;
    try {
      // Listen first: a taken metrics address is refused before any job is adopted.
      await listenOn(server, metricsAddress.host, metricsAddress.port).catch((error: unknown) => {
        throw withListenHint(error, 'metrics-listen');
      });
      started.push(() => server.close());
      agent = new HostAgent({
        host,
        root: values.root,
        etcd: connection,
        etcdPrefix: prefix,
        ...(values.controller ? { controllerUrl: values.controller } : {}),
        leaseTtlSeconds,
        agentVersion: AGENT_VERSION,
        metricsAddress: formatHostPort(metricsAddress.host, (server.address() as AddressInfo).port),
        logger,
        onFatal: (error) => reportConflict(error),
      });
      const hostAgent = agent;
      started.push(() => hostAgent.close());
      await hostAgent.start();
      if (values['render-keepalived']) {
        // Absolute, so the path in status/<director>/_render means the same file to whoever reads it (the console).
        const running = startDirectorRole(path.resolve(values['render-keepalived']), host, connection, prefix, logger, renderAbort.signal);
        director = running;
        started.push(async () => {
          renderAbort.abort();
          await (await running)?.close();
        });
        registerRenderMetrics(metrics.registry, () => rendererStatus?.());
        void running.then((renderer) => {
          if (renderer) rendererStatus = () => renderer.renderer.status;
        });
      }
      twin = values['no-watchdog']
        ? undefined
        : await keepTwinAlive({ role: 'agent', root: values.root, command: twinCommand, onStarted: logTwinStart(logger) });
    } catch (error) {
      for (const stop of started.reverse()) await Promise.resolve(stop()).catch(() => undefined);
      throw error;
    }
    io.stderr(`ygg agent: host ${host}, root ${values.root}, metrics on ${metricsAddress.host}:${(server.address() as AddressInfo).port}`);
    const stopped = await Promise.race([untilStopped(), conflict]);
    // Refused as a second agent for the host: the watchdog must not start this one again.
    await twin?.stopForGood();
    renderAbort.abort();
    await (await director)?.close();
    server.close();
    await agent!.close();
    if (stopped instanceof HostClaimedError) {
      io.stderr(`ygg agent: ${stopped.message}`);
      return EXIT_FINDINGS;
    }
    return EXIT_OK;
  },
};

/** A twin started with the agent is expected; one that had to be started again is worth a warning. */
function logTwinStart(logger: Logger): TwinOptions['onStarted'] {
  return (role, pid, restart) => {
    if (restart) logger.warn({ event: 'twin_restarted', role, pid }, `${role} was gone: restarted`);
    else logger.info({ event: 'twin_started', role, pid }, `${role} started`);
  };
}

/** Each instance as /metrics shows it: a stopped one (no pid, or gone since) is up 0 with its figures 0. */
async function instanceSamples(agent: HostAgent): Promise<InstanceSample[]> {
  const samples: InstanceSample[] = [];
  for (const [job, instance] of agent.instancesByJob()) {
    const status = instance.status();
    const { tag, version } = instance.identity();
    const healthCheckSeconds = instance.lastHealthCheckSeconds();
    const sample = {
      job,
      tag,
      version,
      ...(status.release !== undefined && { release: status.release }),
      restarts: status.restarts,
      healthy: instance.isHealthy(),
      orphaned: agent.isOrphaned(job),
      ...(healthCheckSeconds !== undefined && { healthCheckSeconds }),
      cronExitCodes: cronExitCodes(status.cron),
    };
    // Through the instance's process driver: the OS's /proc, or the fleet simulator's table.
    const figures = await instance.processMetrics();
    const { cpuSeconds, rssBytes, openFds, uptimeSeconds } = figures ?? { cpuSeconds: 0, rssBytes: 0, openFds: 0, uptimeSeconds: 0 };
    samples.push({ ...sample, up: figures !== undefined, cpuSeconds, rssBytes, openFds, uptimeSeconds });
  }
  return samples;
}

/** The last exit code of each cron task that ran; -1 for a run that has none (signal, timeout, not started). */
function cronExitCodes(cron: StatusRecord['cron']): Record<string, number> {
  const codes: Record<string, number> = {};
  for (const [task, state] of Object.entries(cron ?? {})) if (state.lastExit) codes[task] = state.lastExit.code ?? -1;
  return codes;
}

function createMetricsServer(metrics: ReturnType<typeof createAgentMetrics>): Server {
  return createServer((request, response) => {
    if (request.url === '/metrics') {
      void metrics.metrics().then((text) => {
        response.writeHead(200, { 'content-type': metrics.contentType });
        response.end(text);
      });
    } else if (request.url === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok\n');
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('not found\n');
    }
  });
}

/** The director role: render keepalived.conf in this process, coming up even while etcd is down. */
async function startDirectorRole(target: string, host: string, etcd: EtcdConnectionOptions, prefix: string, logger: Logger, signal: AbortSignal): Promise<RunningRenderer | undefined> {
  const templateText = await readFile(new URL('keepalived.conf.hbs', TEMPLATES_DIR), 'utf8');
  const write = await renderWriteOptions('keepalived', undefined);
  try {
    const running = await runRenderer({ kind: 'keepalived', etcd, etcdPrefix: prefix, director: host, target, templateText, write, minWaitMs: DEFAULT_MIN_WAIT_MS, maxWaitMs: DEFAULT_MAX_WAIT_MS, logger: logger.child({ renderer: 'keepalived' }) }, signal);
    await running.renderer.start();
    return running;
  } catch (error) {
    if (!signal.aborted) logger.error({ event: 'render_failed', error: (error as Error).message }, 'keepalived renderer did not start');
    return undefined;
  }
}
