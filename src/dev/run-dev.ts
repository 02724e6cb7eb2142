// `ygg dev`: a whole fleet on this machine, in the foreground until Ctrl-C. A private etcd, the
// controller following the working copy, one agent per Host on the host's own address, the
// directors' keepalived.conf, live progress from etcd; then everything stopped again, jobs included.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Model } from '../model/types.js';
import { CONTROLLER_LOGIN, DevAccess, READONLY_LOGIN, RENDERER_LOGIN } from './dev-access.js';
import { adoptChild, startChild, stopChildren, yggArgv, type DevChild } from './dev-children.js';
import type { DevEvent } from './dev-events.js';
import { SettleWatch } from './settle-watch.js';
import { devFleet, type DevAgent } from './dev-fleet.js';
import { devLayout, runDirs, type DevLayout } from './dev-layout.js';
import { acquireDevLock, type DevLock } from './dev-lock.js';
import { followFleet, type FleetFollower } from './fleet-follower.js';
import { freePort, requestedPort } from './free-port.js';
import { startPrivateEtcd } from './private-etcd.js';
import { watchRepo, type RepoWatcher } from './repo-watcher.js';
import { recoverStaleRun } from './recover-stale-run.js';
import { stopJobs } from './stop-processes.js';
import { triggerController } from './trigger-controller.js';
import { waitForHttp } from './wait-for-http.js';
import { WorkingCopyReader } from './working-copy-reader.js';
import { ensureWorkingCopy } from './working-copy.js';

export interface DevOptions {
  /** The fleet repo the working copy is made from on the first run. */
  readonly repo: string;
  readonly dir: string;
  readonly port?: number;
  /** etcd with authentication on: every process logs in with its own credential (DevAccess). */
  readonly secure?: boolean;
  readonly emit: (event: DevEvent) => void;
  /** Resolves when the run should stop (SIGINT/SIGTERM), with the reason. */
  readonly stopped: Promise<string>;
}

/** Controller poll: a fallback only, commits trigger it at once through the webhook. */
const POLL_INTERVAL = '2s';
/** At most this long for the controller to come up before the agents start anyway. */
const CONTROLLER_HEAD_START_MS = 10_000;
/** At most this long for the controller to write a new host's credential (--secure) before its agent starts anyway. */
const CREDENTIAL_WAIT_MS = 30_000;

export class DevStoppedError extends Error {
  readonly code = 'E_DEV_STOPPED';
  constructor(reason: string) {
    super(`stopped everything: ${reason}`);
    this.name = 'DevStoppedError';
  }
}

export async function runDev(options: DevOptions): Promise<void> {
  const startedAt = performance.now();
  const layout = devLayout(options.dir);
  mkdirSync(layout.dir, { recursive: true });
  const lock = await acquireDevLock(layout.lockFile);
  const run = new DevRun(layout, lock, options.emit);
  let failure: string | undefined;
  try {
    await run.start(options, startedAt);
    const stopped = await Promise.race([options.stopped.then((signal) => ({ signal })), run.failed.then((reason) => ({ failure: reason }))]);
    failure = 'failure' in stopped ? stopped.failure : undefined;
    options.emit({ event: 'stopping', reason: 'signal' in stopped ? stopped.signal : stopped.failure });
  } finally {
    await run.stop();
  }
  if (failure) throw new DevStoppedError(failure);
}

interface Cluster {
  readonly etcdUrl: string;
  readonly consoleUrl: string;
  readonly prefix: string;
  /** With --secure: users and credentials per host. */
  readonly access?: DevAccess;
}

class DevRun {
  private etcd: DevChild | undefined;
  private controller: DevChild | undefined;
  private hostProcesses: DevChild[] = [];
  /** Agents and renderers by name: a later commit's new Host gets its agent, nobody gets two. */
  private readonly started = new Set<string>();
  /** Every file a director or renderer keeps rendered: the fleet is not up before they exist. */
  private renderedFiles: readonly string[] = [];
  private follower: FleetFollower | undefined;
  private watcher: RepoWatcher | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  /** Agents being started for a commit just applied: the stop waits for them, then stops them too. */
  private readonly hostStarts = new Set<Promise<void>>();
  private stopping = false;
  private reportFailure: (reason: string) => void = () => {};
  /** Resolves when a process the run cannot go on without (etcd, the controller) exits. */
  readonly failed = new Promise<string>((resolve) => (this.reportFailure = resolve));

  constructor(
    private readonly layout: DevLayout,
    private readonly lock: DevLock,
    private readonly emit: (event: DevEvent) => void,
  ) {}

  async start(options: DevOptions, startedAt: number): Promise<void> {
    const { layout, lock } = this;
    await this.startClean();
    const port = options.port === undefined ? await freePort() : await requestedPort('127.0.0.1', options.port, 'port');
    const copy = await ensureWorkingCopy(options.repo, layout.repo);
    this.emit({ event: 'starting', dir: layout.dir, repo: layout.repo, created: copy.created });
    const reader = new WorkingCopyReader(layout.repo);
    // etcd starts while the fleet loads; both must be settled before anything can fail or go on.
    const [loaded, started] = await Promise.allSettled([reader.fleetAt('HEAD'), startPrivateEtcd(layout.etcdDir, layout.log('etcd'))]);
    if (started.status === 'fulfilled') this.etcd = await this.adopt('etcd', started.value.child);
    if (loaded.status === 'rejected') throw loaded.reason;
    if (started.status === 'rejected') throw started.reason;
    const [model, etcd] = [loaded.value, started.value];
    await lock.update({ etcdUrl: etcd.url });
    this.emit({ event: 'started', what: 'etcd', detail: etcd.url });

    const access = options.secure ? await DevAccess.enable(etcd.url, layout.credentialsDir, model) : undefined;
    if (access) this.emit({ event: 'started', what: 'auth', detail: `etcd authentication on; credentials in ${layout.credentialsDir}` });
    const cluster: Cluster = { etcdUrl: etcd.url, consoleUrl: `http://127.0.0.1:${port}`, prefix: model.config.etcdPrefix, ...(access && { access }) };
    const secret = randomBytes(24).toString('hex');
    this.controller = await this.child('controller', ['controller', '--repo', layout.repo, '--branch', copy.branch, ...etcdFlags(cluster, CONTROLLER_LOGIN), ...(access?.controllerAccessFlags() ?? []), '--listen', `127.0.0.1:${port}`, '--interval', POLL_INTERVAL, '--cache-dir', layout.cacheDir], { YGG_WEBHOOK_SECRET: secret });
    await lock.update({ consoleUrl: cluster.consoleUrl });
    this.emit({ event: 'started', what: 'controller', detail: `${cluster.consoleUrl} (following ${copy.branch} of ${layout.repo})` });
    // The controller's start (load, schemas, first reconcile) is one serial path; 19 agents starting
    // beside it on a small machine would make everything wait for it. Its HTTP face first, then the agents.
    await waitForHttp(`${cluster.consoleUrl}/healthz`, this.controller.exited, CONTROLLER_HEAD_START_MS);
    await this.startHosts(model, cluster);

    const settle = new SettleWatch((event) => this.onFleetEvent(event, cluster, reader), { startedAt, ...cluster, ...(cluster.access && { etcdCredentials: cluster.access.file(READONLY_LOGIN) }), layout, renderedFiles: () => this.renderedFiles });
    this.follower = await followFleet(etcd.url, model.config.etcdPrefix, (reading) => settle.onReading(reading), await access?.readonly());
    // Renderers write after the last etcd change: the check for their files repeats on its own.
    this.settleTimer = setInterval(() => settle.recheck(), 250);
    this.watcher = await watchRepo({
      repoDir: layout.repo,
      onSave: () => {
        const inForce = this.follower?.inForce();
        if (inForce) void reader.planUncommitted(inForce).then(this.emit, (error: unknown) => this.warn(`cannot plan the working tree: ${(error as Error).message}`));
      },
      onCommit: () => {
        void reader
          .head()
          .then((sha) => triggerController(cluster.consoleUrl, secret, copy.branch, sha))
          .catch((error: unknown) => this.warn(`cannot trigger the controller (it polls every ${POLL_INTERVAL}): ${(error as Error).message}`));
      },
    });
  }

  /** What an earlier run left is stopped (by the identities it recorded) and its files removed. */
  private async startClean(): Promise<void> {
    const { layout, lock } = this;
    if (lock.stale) {
      const recovered = await recoverStaleRun(lock.stale, layout);
      this.emit({ event: 'recovered', pid: lock.stale.pid, ...recovered });
    }
    // Jobs of an earlier run that stopped without its lock (a hand-removed file): stopped by pid file.
    await stopJobs(layout.hostsDir);
    for (const dir of runDirs(layout)) rmSync(dir, { recursive: true, force: true });
    for (const dir of [layout.logDir, layout.hostsDir, layout.keepalivedDir, layout.dnsDir, dirname(layout.prometheusTargets)]) mkdirSync(dir, { recursive: true });
  }

  /** An agent for every Host not running one yet (directors with the director role), and the renderers. */
  private async startHosts(model: Model, cluster: Cluster): Promise<void> {
    const fleet = devFleet(model, this.layout);
    this.renderedFiles = [...new Set([...this.renderedFiles, ...fleet.keepalivedConfs.values(), ...fleet.renderers.map((renderer) => renderer.target)])];
    const agents = fleet.agents.filter((agent) => !this.started.has(`agent-${agent.host}`));
    const renderers = fleet.renderers.filter((renderer) => !this.started.has(renderer.name));
    if (agents.length === 0 && renderers.length === 0) return;
    // New hosts' credentials come from the controller, before their assignments.
    for (const agent of agents) {
      if (cluster.access && !(await cluster.access.waitForCredential(agent.host, CREDENTIAL_WAIT_MS))) this.warn(`no credential for ${agent.host} after ${CREDENTIAL_WAIT_MS / 1000}s: the controller has not applied access for it (see its log); its agent will be refused`);
    }
    for (const { host, ip } of fleet.unreachableHosts.filter((unreachable) => agents.some((agent) => agent.host === unreachable.host))) {
      this.warn(`host ${host} has ip ${ip}, not a loopback address: its jobs cannot bind it on this machine (give it a 127.0.0.x address)`);
    }
    const first = this.hostProcesses.length === 0;
    const host = async (name: string, args: readonly string[]) => void this.hostProcesses.push(await this.child(name, args));
    await Promise.all([
      ...agents.map((agent) => host(`agent-${agent.host}`, agentArgs(agent, this.layout, cluster))),
      ...renderers.map((renderer) => host(renderer.name, [...renderer.args, ...etcdFlags(cluster, RENDERER_LOGIN)])),
    ]);
    const renderersToo = renderers.length ? `, ${renderers.length} renderer(s)` : '';
    const detail = first ? `${agents.length} (one per host, roots in ${this.layout.hostsDir})` : `${agents.map((agent) => agent.host).join(', ')} (new hosts)`;
    this.emit({ event: 'started', what: 'agents', detail: detail + renderersToo });
  }

  private onFleetEvent(event: DevEvent, cluster: Cluster, reader: WorkingCopyReader): void {
    this.emit(event);
    if (event.event !== 'commit_applied' || this.stopping) return;
    // A commit in force may add hosts: each gets its agent (a valid commit, or it would not be in force).
    const starting = reader
      .fleetAt(event.sha)
      .then((model) => this.startHosts(model, cluster))
      .catch((error: unknown) => {
        if (!this.stopping) this.warn(`cannot start agents for ${event.sha.slice(0, 7)}: ${(error as Error).message}`);
      })
      .finally(() => this.hostStarts.delete(starting));
    this.hostStarts.add(starting);
  }

  private warn(message: string): void {
    this.emit({ event: 'warning', message });
  }

  /** Stops in dependency order: agents and renderers, the jobs they leave, the controller, etcd. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.settleTimer);
    await this.watcher?.close();
    await this.follower?.close().catch(() => undefined);
    await Promise.all(this.hostStarts);
    await stopChildren(this.hostProcesses);
    const jobs = await stopJobs(this.layout.hostsDir);
    await stopChildren(this.controller ? [this.controller] : []);
    await stopChildren(this.etcd ? [this.etcd] : []);
    rmSync(this.layout.etcdDir, { recursive: true, force: true });
    await this.lock.release();
    const processes = [this.etcd, this.controller, ...this.hostProcesses].filter((child) => child !== undefined).length;
    // A run refused before it started anything (a taken port, no etcd) has nothing to report here.
    if (processes > 0) this.emit({ event: 'stopped', processes, jobs: jobs.length });
  }

  private async child(name: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<DevChild> {
    if (this.stopping) throw new Error(`not starting ${name}: ygg dev is stopping`);
    this.started.add(name);
    const started = await startChild({ name, argv: [...yggArgv(), ...args], logFile: this.layout.log(name), env: { ...process.env, ...env }, record: (identity) => this.lock.addProcess(identity) });
    this.watchExit(started, name === 'controller');
    return started;
  }

  private async adopt(name: string, child: DevChild['child']): Promise<DevChild> {
    const adopted = await adoptChild(name, child, this.layout.log(name), (identity) => this.lock.addProcess(identity));
    this.watchExit(adopted, true);
    return adopted;
  }

  /** An exit nobody asked for is reported; without etcd or the controller the run cannot go on. */
  private watchExit(running: DevChild, essential: boolean): void {
    void running.exited.then((code) => {
      if (this.stopping) return;
      this.emit({ event: 'exited', name: running.name, code, logFile: running.logFile });
      if (essential) this.reportFailure(`${running.name} exited`);
    });
  }
}

/** `login`: whose credential the process uses under --secure (a host's name, or the controller's or read-only one). */
function etcdFlags(cluster: Cluster, login: string): string[] {
  return ['--etcd', cluster.etcdUrl, '--etcd-prefix', cluster.prefix, ...(cluster.access?.flags(login) ?? [])];
}

function agentArgs(agent: DevAgent, layout: DevLayout, cluster: Cluster): string[] {
  return [
    'agent', '--host', agent.host, '--root', layout.hostRoot(agent.host), ...etcdFlags(cluster, agent.host), '--controller', cluster.consoleUrl,
    '--metrics-listen', '127.0.0.1:0', '--no-watchdog', ...(agent.keepalivedConf ? ['--render-keepalived', agent.keepalivedConf] : []),
  ];
}
