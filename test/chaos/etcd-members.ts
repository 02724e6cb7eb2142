// etcd for the chaos suite: one member or a real 3-member cluster on loopback, each member a process
// the suite can SIGKILL, freeze (SIGSTOP, the cheapest partition: peers and clients time out on it),
// thaw, start again, or bring back from an older snapshot on the same client port. etcdctl does what
// an operator would do by hand.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../fixtures/etcd-server.js';

const run = promisify(execFile);

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  /** SIGKILL; the data stays. */
  kill(): Promise<void>;
  /** SIGTERM, as an operator stops it; the data stays. */
  stop(): Promise<void>;
  freeze(): void;
  thaw(): void;
  /** Starts it (again) on its ports and data dir. */
  start(): Promise<void>;
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** Every client URL, comma-separated, as `--etcd` takes them. */
  readonly endpoints: string;
  etcdctl(...args: string[]): Promise<string>;
  /** The member that leads now (asks each live member). */
  leader(): Promise<EtcdMember>;
  /** Single member only: stop, restore `snapshotFile` into a new data dir, start on the same client port. */
  restoreSingle(snapshotFile: string): Promise<void>;
  close(): Promise<void>;
}

interface MemberConfig {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
}

export async function startEtcdCluster(dir: string, size: 1 | 3): Promise<EtcdCluster> {
  mkdirSync(dir, { recursive: true });
  const configs: MemberConfig[] = [];
  for (let index = 0; index < size; index++) configs.push({ name: `chaos-etcd-${index}`, clientPort: await freePort(), peerPort: await freePort() });
  const initialCluster = configs.map((config) => `${config.name}=http://127.0.0.1:${config.peerPort}`).join(',');
  const endpoints = configs.map((config) => `http://127.0.0.1:${config.clientPort}`).join(',');
  const dataDirs = new Map(configs.map((config) => [config.name, path.join(dir, `${config.name}.data`)]));
  const etcdctl = async (...args: string[]) => (await run('etcdctl', ['--endpoints', endpoints, '--dial-timeout', '2s', '--command-timeout', '5s', ...args], { env: { ...process.env, ETCDCTL_API: '3' } })).stdout;

  const members = configs.map((config): EtcdMember & { launch(fresh: boolean): ChildProcess } => {
    const clientUrl = `http://127.0.0.1:${config.clientPort}`;
    const peerUrl = `http://127.0.0.1:${config.peerPort}`;
    let child: ChildProcess | undefined;
    let log = '';
    const launch = (fresh: boolean) => {
      const args = ['--name', config.name, '--data-dir', dataDirs.get(config.name)!,
        '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
        '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
        '--initial-cluster', initialCluster, '--initial-cluster-state', fresh ? 'new' : 'existing',
        '--logger', 'zap', '--log-level', 'error'];
      log = '';
      // Its own process group, so the suite's clean-up can take it and nothing else.
      const started = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
      started.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
      child = started;
      return started;
    };
    const end = async (signal: NodeJS.Signals) => {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGCONT');
      running.kill(signal);
      await exited;
    };
    const kill = () => end('SIGKILL');
    return {
      name: config.name,
      clientUrl,
      launch,
      kill,
      stop: () => end('SIGTERM'),
      freeze: () => child?.kill('SIGSTOP'),
      thaw: () => child?.kill('SIGCONT'),
      start: async () => {
        await kill();
        const started = launch(false);
        await waitHealthy(clientUrl, started, () => log, size === 1);
      },
    };
  });

  for (const member of members) member.launch(true);
  await Promise.all(members.map((member, index) => waitHealthy(member.clientUrl, undefined, () => '', true).catch((error: Error) => {
    throw new Error(`etcd member ${index} did not start: ${error.message}`);
  })));

  const cluster: EtcdCluster = {
    members,
    endpoints,
    etcdctl,
    leader: async () => {
      const statuses = JSON.parse(await etcdctl('endpoint', 'status', '-w', 'json')) as { Endpoint: string; Status: { header: { member_id: number }; leader: number } }[];
      const leading = statuses.find((status) => status.Status.header.member_id === status.Status.leader);
      const member = members.find((candidate) => candidate.clientUrl === leading?.Endpoint);
      if (!member) throw new Error(`no leader among ${JSON.stringify(statuses)}`);
      return member;
    },
    restoreSingle: async (snapshotFile) => {
      if (members.length !== 1) throw new Error('restoreSingle is for a single-member etcd');
      const member = members[0]!;
      await member.stop();
      const restoredDir = path.join(dir, `${member.name}.restored-${Date.now()}`);
      await run('etcdctl', ['snapshot', 'restore', snapshotFile, '--name', member.name, '--data-dir', restoredDir,
        '--initial-cluster', initialCluster, '--initial-advertise-peer-urls', `http://127.0.0.1:${configs[0]!.peerPort}`], { env: { ...process.env, ETCDCTL_API: '3' } });
      dataDirs.set(member.name, restoredDir);
      await member.start();
    },
    close: async () => {
      await Promise.all(members.map((member) => member.kill()));
      for (const dataDir of dataDirs.values()) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** /health answers true (a quorum exists), or with `alone` false: the member at least serves /version. */
async function waitHealthy(url: string, child: ChildProcess | undefined, log: () => string, needQuorum: boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}: ${log()}`);
    try {
      const response = await fetch(`${url}/${needQuorum ? 'health' : 'version'}`, { signal: AbortSignal.timeout(1000) });
      const body = await response.text();
      if (response.ok && (!needQuorum || body.includes('"health":"true"'))) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`etcd at ${url} did not become healthy: ${log()}`);
}
