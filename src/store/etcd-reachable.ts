// Whether any etcd endpoint accepts a TCP connection: the cheap test between retries while etcd is
// down. A failed gRPC request costs 10–20 ms of CPU, because etcd3 closes and rebuilds every gRPC
// channel to the host after each failure; a refused connect costs next to nothing. An open port does
// not prove that etcd answers, so this only decides whether the real request is worth trying.
import net from 'node:net';
import type { Etcd3 } from 'etcd3';
import { connectionSettings } from './etcd-connection.js';

export async function acceptsConnections(client: Etcd3): Promise<boolean> {
  const { endpoints, dialTimeoutMs } = connectionSettings(client);
  // a client we did not create: let the request itself find out
  if (endpoints.length === 0) return true;
  const results = await Promise.all(endpoints.map((endpoint) => canConnect(new URL(endpoint), dialTimeoutMs)));
  return results.includes(true);
}

function canConnect(url: URL, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    // URL keeps the brackets of an IPv6 literal; net.connect wants the bare address
    const socket = net.connect({ host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port) });
    const done = (connected: boolean) => {
      socket.destroy();
      resolve(connected);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
