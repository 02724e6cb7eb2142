// The private etcd of a `ygg dev` run: one member on free loopback ports, its data under .ygg/,
// started the way the tests and CI start theirs, healthy before anything else starts.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { freePort } from './free-port.js';

export class EtcdNotInstalledError extends Error {
  readonly code = 'E_ETCD_NOT_INSTALLED';
  constructor() {
    super('etcd is not installed; install it with: sudo apt-get update && sudo apt-get install -y --no-install-recommends etcd-server');
    this.name = 'EtcdNotInstalledError';
  }
}

export class EtcdStartError extends Error {
  readonly code = 'E_ETCD_START';
  constructor(
    readonly reason: string,
    readonly logFile: string,
  ) {
    super(`etcd did not start (${reason}); see ${logFile}`);
    this.name = 'EtcdStartError';
  }
}

export interface PrivateEtcd {
  readonly url: string;
  readonly child: ChildProcess;
}

const MEMBER = 'ygg-dev';

export async function startPrivateEtcd(dataDir: string, logFile: string, timeoutMs = 10_000): Promise<PrivateEtcd> {
  const url = `http://127.0.0.1:${await freePort()}`;
  const peerUrl = `http://127.0.0.1:${await freePort()}`;
  const args = [
    '--name', MEMBER, '--data-dir', dataDir,
    '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `${MEMBER}=${peerUrl}`,
    '--logger', 'zap', '--log-level', 'warn',
    // etcd keeps every revision until compacted, and agents rewrite their facts and statuses all
    // the time: without this a long run fills the backend quota, after which etcd refuses writes.
    '--auto-compaction-mode', 'periodic', '--auto-compaction-retention', '1h',
    // --secure: every password is 192 random bits, so bcrypt's cost buys nothing; at etcd's default
    // (10) each of the run's ~25 log-ins costs 66 ms of etcd's CPU, enough to time out a log-in on
    // a busy machine (SECURITY.md recommends the same for production)
    '--bcrypt-cost', '4',
  ];
  const log = openSync(logFile, 'a');
  // Its own process group: Ctrl-C reaches ygg dev alone, which stops etcd last, after the agents.
  const child = spawn('etcd', args, { stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? new EtcdNotInstalledError() : new EtcdStartError(error.message, logFile)));
    child.once('exit', (code, signal) => reject(new EtcdStartError(`exited with ${signal ?? code}`, logFile)));
  });
  failed.catch(() => undefined);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await Promise.race([isHealthy(url), failed])) return { url, child };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new EtcdStartError(`not healthy after ${timeoutMs} ms`, logFile);
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    return response.ok && ((await response.json()) as { health?: unknown }).health === 'true';
  } catch {
    return false;
  }
}
