// Where `ygg dev` keeps everything, under one directory (default .ygg/): the working copy the
// controller follows survives runs; the rest belongs to one run and starts clean each time.
import path from 'node:path';

export interface DevLayout {
  readonly dir: string;
  /** The git working copy the user edits and commits to. */
  readonly repo: string;
  /** This run's lock: who runs here, the console, and every process started (for recovery). */
  readonly lockFile: string;
  /** etcd's data dir of this run. */
  readonly etcdDir: string;
  /** `--secure`: etcd credential files, one per process (root's too), mode 0600. */
  readonly credentialsDir: string;
  /** The controller's source cache (the last fetched head). */
  readonly cacheDir: string;
  readonly logDir: string;
  readonly hostsDir: string;
  readonly keepalivedDir: string;
  /** Zone files, one per Zone document. */
  readonly dnsDir: string;
  /** The Prometheus file_sd target file of the whole fleet. */
  readonly prometheusTargets: string;
  hostRoot(host: string): string;
  keepalivedConf(director: string): string;
  zoneFile(origin: string): string;
  log(name: string): string;
}

export function devLayout(dir: string): DevLayout {
  const absolute = path.resolve(dir);
  const hostsDir = path.join(absolute, 'hosts');
  const keepalivedDir = path.join(absolute, 'keepalived');
  const logDir = path.join(absolute, 'logs');
  const dnsDir = path.join(absolute, 'dns');
  const prometheusDir = path.join(absolute, 'prometheus');
  return {
    dir: absolute,
    repo: path.join(absolute, 'repo'),
    lockFile: path.join(absolute, 'dev.lock.json'),
    etcdDir: path.join(absolute, 'etcd'),
    credentialsDir: path.join(absolute, 'credentials'),
    cacheDir: path.join(absolute, 'cache'),
    logDir,
    hostsDir,
    keepalivedDir,
    dnsDir,
    prometheusTargets: path.join(prometheusDir, 'targets.json'),
    hostRoot: (host) => path.join(hostsDir, host),
    keepalivedConf: (director) => path.join(keepalivedDir, `${director}.conf`),
    zoneFile: (origin) => path.join(dnsDir, `${origin}.zone`),
    log: (name) => path.join(logDir, `${name}.log`),
  };
}

/** What a run owns and removes before it starts: everything but the working copy. */
export function runDirs(layout: DevLayout): string[] {
  return [layout.etcdDir, layout.credentialsDir, layout.cacheDir, layout.logDir, layout.hostsDir, layout.keepalivedDir, layout.dnsDir, path.dirname(layout.prometheusTargets)];
}
