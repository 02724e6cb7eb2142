// A real `etcd grpc-proxy` (Debian's etcd 3.4 binary) in front of one etcd, on a free loopback port:
// what a datacenter's agents would connect to instead of the cluster. It coalesces identical watches
// (same key or range, same revision) into one watcher on etcd, and carries every client's watches and
// lease keep-alives to etcd over its own few streams.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { freePort } from '../src/dev/free-port.js';
import { waitForHttp } from '../src/dev/wait-for-http.js';

export interface GrpcProxy {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startGrpcProxy(etcdUrl: string, workDir: string): Promise<GrpcProxy> {
  const address = `127.0.0.1:${await freePort()}`;
  const log = openSync(path.join(workDir, 'grpc-proxy.log'), 'a');
  // --endpoints takes host:port; the proxy's /health and /metrics share its gRPC port
  const child = spawn('etcd', ['grpc-proxy', 'start', '--endpoints', new URL(etcdUrl).host, '--listen-addr', address, '--data-dir', path.join(workDir, 'grpc-proxy')], { stdio: ['ignore', log, log] });
  closeSync(log);
  const exited = once(child, 'exit');
  const url = `http://${address}`;
  if (!(await waitForHttp(`${url}/health`, exited, 10_000))) {
    child.kill('SIGKILL');
    throw new Error(`etcd grpc-proxy did not answer /health; see ${path.join(workDir, 'grpc-proxy.log')}`);
  }
  return {
    url,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
