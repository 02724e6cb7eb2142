// Ports for the processes ygg dev starts: a free one from the kernel, or the one the user asked for,
// refused at once (naming the flag) when something else holds it.
import net from 'node:net';

export class PortTakenError extends Error {
  readonly code = 'E_PORT_TAKEN';
  constructor(
    readonly port: number,
    readonly flag: string,
  ) {
    super(`port ${port} is already in use: choose another with --${flag}`);
    this.name = 'PortTakenError';
  }
}

/** Listens and closes again: the port is free now (another process may still take it before us). */
export function probePort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: bound } = server.address() as net.AddressInfo;
      server.close(() => resolve(bound));
    });
  });
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return probePort(host, 0);
}

export async function requestedPort(host: string, port: number, flag: string): Promise<number> {
  try {
    return await probePort(host, port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortTakenError(port, flag);
    throw error;
  }
}
