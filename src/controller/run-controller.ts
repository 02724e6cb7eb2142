// Wires a controller process together: etcd (retrying until it answers), the etcd mirror, leader
// election, the git source, the reconcile loop and its triggers, and the HTTP face.
import type { Logger } from 'pino';
import type { ControllerSource } from '../repo/controller-source.js';
import { openControllerSource } from '../repo/open-source.js';
import { RepoLoader } from '../repo/load-repo.js';
import { createSchemaValidator } from '../repo/schema-validator.js';
import { startHttpServer } from '../server/http-server.js';
import { createConsoleApi, type ConsoleApi } from '../server/console/console-api.js';
import { createControllerMetrics } from '../server/metrics.js';
import { createConnectionLog } from '../store/connection-log.js';
import { connectEtcd, type EtcdConnectionOptions } from '../store/etcd-connection.js';
import { keyLayout, type KeyLayout } from '../store/keys.js';
import type { Etcd3 } from 'etcd3';
import { CredentialDirectory, CredentialFileError } from '../authz/credential-files.js';
import { loginAsRoot } from '../authz/etcd-root.js';
import { AccessSync } from './access-sync.js';
import { LeaderElection } from '../store/leader-election.js';
import { readHistoryPage, readRecentHistory } from '../store/read-history.js';
import { retryWithBackoff } from '../store/retry-with-backoff.js';
import { readSecretVersions, secretKeys, watchSecretVersions, type SecretVersion } from '../store/secret-store.js';
import { EtcdStateStore } from '../store/state-store.js';
import { EtcdUnavailableError } from '../store/store-errors.js';
import { FleetController, SECRETS_REASON } from './fleet-controller.js';
import { FleetInformer } from './fleet-informer.js';
import { fleetStatus } from './fleet-status.js';
import type { ControllerStatus } from '../server/controller-status.js';
import { ReconcileLoop } from './reconcile-loop.js';
import { signedCommitPolicy, type SignedCommitsMode } from './signed-commit-policy.js';

export interface ControllerConfig {
  readonly repo: string;
  readonly branch: string;
  readonly cacheDir: string;
  readonly etcd: EtcdConnectionOptions;
  readonly etcdPrefix: string;
  readonly intervalMs: number;
  readonly listen?: { readonly host: string; readonly port: number };
  readonly webhookSecret?: string;
  readonly id: string;
  readonly leaseTtlSeconds: number;
  readonly logger: Logger;
  /** At most how long after an etcd change to reconcile, gathering what changes meanwhile (agents report in bursts); ReconcileLoop.observe. */
  readonly settleMs?: number;
  /** Apply only commits SSH-signed by a key this file lists (OpenSSH allowed-signers format). */
  readonly allowedSignersFile?: string;
  /** Apply only commits signed by one of the armored OpenPGP public keys in this file (either flag's signer will do). */
  readonly allowedPgpKeysFile?: string;
  /** With signers: require signatures on every commit (default) or only as the commit in force's spec.requireSignedCommits says. */
  readonly signedCommits?: SignedCommitsMode;
  /** Keep etcd's users and roles following each commit (AccessSync), new hosts' credential files in `credentialsDir`. */
  readonly access?: { readonly rootPassword: string; readonly credentialsDir: string };
}

export interface RunningController {
  readonly url?: string;
  readonly controller: FleetController;
  readonly loop: ReconcileLoop;
  readonly election: LeaderElection;
  close(): Promise<void>;
}

export async function runController(config: ControllerConfig): Promise<RunningController> {
  // Opening reads nothing remote: a wrong --repo is refused before anything starts, even with etcd down.
  const source = await openControllerSource(config.repo, config.branch, config.cacheDir);
  // What is started so far, stopped again (newest first) when a later step fails: a controller that
  // cannot start must exit, not linger with a live /healthz.
  const started: (() => unknown)[] = [];
  try {
    return await startController(config, source, started);
  } catch (error) {
    for (const stop of started.reverse()) await Promise.resolve(stop()).catch(() => undefined);
    throw error;
  }
}

async function startController(config: ControllerConfig, source: ControllerSource, started: (() => unknown)[]): Promise<RunningController> {
  const { logger } = config;
  const metrics = createControllerMetrics();
  // Until everything below is up, the HTTP face is live (/healthz) but not ready (/readyz says why).
  let notReady: string | undefined = 'connecting to etcd';
  let statusOf: (() => Promise<ControllerStatus>) | undefined;
  let loop: ReconcileLoop | undefined;
  let controller: FleetController | undefined;
  let consoleApi: ConsoleApi | undefined;
  const server = config.listen
    ? await startHttpServer({
        host: config.listen.host,
        port: config.listen.port,
        logger: logger.child({ server: 'http' }),
        metrics,
        webhookSecret: config.webhookSecret,
        isReady: () => {
          // Up, but the newest commit cannot be loaded: the last good one stays in force, and this says why.
          const reason = notReady ?? controller?.loadFailure();
          return reason ? { ready: false, reason } : { ready: true };
        },
        getStatus: () => {
          if (!statusOf) throw new Error(notReady ?? 'starting');
          return statusOf();
        },
        onPush: () => loop?.trigger('webhook'),
        getContent: async (sha256) => controller?.content(sha256),
        getConsole: () => consoleApi,
      })
    : undefined;
  if (server) started.push(() => server.close());
  const client = await retryWithBackoff(() => connectEtcd(config.etcd), {
    onRetry: (error, attempt, delayMs) => {
      metrics.etcdErrorsTotal.inc({ operation: 'connect' });
      logger.warn({ event: 'etcd_unavailable', attempt, retryInMs: delayMs, error: (error as Error).message }, 'etcd unreachable; retrying');
    },
  });
  started.push(() => client.close());
  const layout = keyLayout(config.etcdPrefix);
  const access = config.access && (await startAccessSync(config, layout));
  if (access) started.push(() => access.root.close());
  notReady = 'reading etcd';
  const store = new EtcdStateStore(client, layout);
  const connectionLog = createConnectionLog(logger);
  const informer = new FleetInformer(store, layout, {
    // A burst of status writes is settled into one reconcile (ReconcileLoop.observe).
    onChange: () => loop?.observe('observed'),
    onProblem: (key, problem) => logger.warn({ event: 'etcd_value_ignored', key, problem }, 'ignored a malformed etcd value'),
    onConnectionChange: connectionLog.report,
  });
  started.push(() => informer.close(), () => connectionLog.close());
  await retryWithBackoff(() => informer.start(), { onRetry: () => metrics.etcdErrorsTotal.inc({ operation: 'read' }) });
  const election = new LeaderElection(store, {
    id: config.id,
    leaseTtlSeconds: config.leaseTtlSeconds,
    onError: (error) => {
      metrics.etcdErrorsTotal.inc({ operation: 'election' });
      // etcd being down is said once, by the connection log; each retry is only worth a debug line
      logger[error instanceof EtcdUnavailableError ? 'debug' : 'warn']({ event: 'election_error', error: (error as Error).message }, 'leader election error');
    },
  });
  const secrets = secretKeys(config.etcdPrefix);
  // A controller credential made before secrets existed may not read versions/: then no secret is
  // known (a commit using one is rejected, saying which), rather than a controller that never starts.
  let deniedSecrets = false;
  const readVersions = () =>
    readSecretVersions(client, secrets).catch((error: unknown) => {
      if ((error as { code?: unknown }).code !== 'E_ETCD_PERMISSION') throw error;
      if (!deniedSecrets) logger.warn({ event: 'secret_versions_denied', prefix: secrets.versions }, 'etcd refuses a read of secret versions: run ygg etcd-setup again to grant it');
      deniedSecrets = true;
      return { versions: new Map<string, SecretVersion>(), revision: '0' };
    });
  const secretVersions = await retryWithBackoff(readVersions, { onRetry: () => metrics.etcdErrorsTotal.inc({ operation: 'read' }) });
  const secretWatch = watchSecretVersions(client, secrets, secretVersions.revision, () => loop?.trigger(SECRETS_REASON), (error) =>
    logger.warn({ event: 'secret_watch_error', error: (error as Error).message }, 'watch of secret versions failed'),
  );
  started.push(() => secretWatch.close());
  controller = new FleetController({
    source,
    secretVersions: async () => (await readVersions()).versions,
    loader: new RepoLoader(createSchemaValidator(), { offThread: true }),
    store,
    layout,
    informer,
    leadership: { isLeader: () => election.isLeader, guard: () => election.guard() },
    metrics,
    logger,
    refuseCommit: signedCommitPolicy({ sshFile: config.allowedSignersFile, pgpKeysFile: config.allowedPgpKeysFile }, config.signedCommits ?? 'always', (sha) => source.git.repository.readSignedCommit(sha)),
    ...(access && { access: access.sync }),
  });
  loop = new ReconcileLoop({
    run: (reasons) => controller.reconcile(reasons),
    ...(config.settleMs !== undefined && { settleMaxMs: config.settleMs }),
    onError: (error, attempt, retryInMs) => {
      metrics.countReconcile('error', 0);
      logger.error({ event: 'reconcile_failed', attempt, retryInMs, error: (error as Error).message }, 'reconcile failed; retrying');
    },
  });
  const running = controller;
  consoleApi = createConsoleApi({
    layout,
    state: () => ({ current: informer.current(), observed: informer.observed(), extras: informer.extras(), inForce: running.inForce(), jobSummaries: running.jobs() }),
    subscribe: (listener) => informer.subscribe(listener),
    readHistory: (limit, before) => readHistoryPage(client, layout, limit, before),
  });
  started.push(() => consoleApi?.close());
  election.on('elected', () => {
    logger.info({ event: 'elected', id: config.id }, 'elected leader');
    loop!.trigger('start');
  });
  election.on('deposed', (reason) => logger.warn({ event: 'deposed', id: config.id, reason }, 'no longer leader'));
  started.push(() => election.resign(), () => loop!.stop());
  await election.campaign();
  const poll = setInterval(() => loop!.trigger('poll'), config.intervalMs);
  statusOf = async () => fleetStatus(informer.current(), informer.observed(), await readRecentHistory(client, layout, 20), controller!.jobsInForce());
  notReady = undefined;
  logger.info({ event: 'controller_started', id: config.id, repo: source.label, branch: config.branch, url: server?.url, leader: election.isLeader }, 'controller started');
  return {
    ...(server ? { url: server.url } : {}),
    controller,
    loop,
    election,
    async close() {
      clearInterval(poll);
      await loop!.stop();
      consoleApi?.close();
      await server?.close();
      await informer.close();
      await secretWatch.close();
      connectionLog.close();
      await election.resign().catch(() => undefined);
      access?.root.close();
      client.close();
    },
  };
}

/** Root's client (a wrong password or auth still off refuses the start, in one line) and the AccessSync using it. */
async function startAccessSync(config: ControllerConfig, layout: KeyLayout): Promise<{ root: Etcd3; sync: AccessSync }> {
  const { auth: _own, ...connection } = config.etcd;
  const root = await loginAsRoot(connection, config.access!.rootPassword);
  const credentials = new CredentialDirectory(config.access!.credentialsDir);
  try {
    await credentials.prepare();
  } catch (error) {
    root.close();
    throw new CredentialFileError(credentials.dir, `cannot write credential files there (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return { root, sync: new AccessSync({ root, credentials, layout, logger: config.logger }) };
}
