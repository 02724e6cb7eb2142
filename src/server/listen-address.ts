// Parses `--listen [HOST]:PORT`, the same shapes Go daemons and Prometheus accept, and listens there
// with an error that says why not.
import { isIP, type Server } from 'node:net';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export class ListenAddressError extends Error {
  readonly code = 'E_LISTEN_ADDRESS';
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`invalid listen address "${input}": ${reason} (expected [HOST]:PORT, e.g. 127.0.0.1:8080, :8080, [::1]:8080)`);
    this.name = 'ListenAddressError';
  }

  toJSON(): { code: string; input: string; reason: string; message: string } {
    return { code: this.code, input: this.input, reason: this.reason, message: this.message };
  }
}

/**
 * An omitted host means every IPv4 interface, as `:8080` does in Go: webhooks come from outside.
 * IPv4 rather than `::` because `::` fails on hosts with IPv6 disabled.
 */
export const ALL_INTERFACES = '0.0.0.0';

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function parseListenAddress(input: string): ListenAddress {
  const text = input.trim();
  if (text === '') throw new ListenAddressError(input, 'empty');
  if (/^\d+$/.test(text)) return { host: ALL_INTERFACES, port: parsePort(input, text) };

  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new ListenAddressError(input, 'unclosed "[" around an IPv6 address');
    const host = text.slice(1, close);
    if (isIP(host) !== 6) throw new ListenAddressError(input, `"${host}" is not an IPv6 address`);
    const rest = text.slice(close + 1);
    if (!rest.startsWith(':')) throw new ListenAddressError(input, 'missing ":PORT" after the IPv6 address');
    return { host, port: parsePort(input, rest.slice(1)) };
  }

  const colon = text.lastIndexOf(':');
  if (colon < 0) throw new ListenAddressError(input, 'missing ":PORT"');
  const host = text.slice(0, colon);
  if (host.includes(':')) throw new ListenAddressError(input, 'an IPv6 host must be written in brackets, e.g. [::1]:8080');
  const port = parsePort(input, text.slice(colon + 1));
  if (host === '') return { host: ALL_INTERFACES, port };
  if (isIP(host) === 0 && !HOSTNAME.test(host)) throw new ListenAddressError(input, `"${host}" is neither an IP address nor a host name`);
  return { host, port };
}

/** Port 0 is allowed: the system picks a free port, which tests and `ygg dev` rely on. */
function parsePort(input: string, text: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new ListenAddressError(input, `port "${text}" is not a number`);
  const port = Number(text);
  if (port > 65535) throw new ListenAddressError(input, `port ${port} is above 65535`);
  return port;
}

/** Why a server could not listen, said so the person who picked the address can pick another. */
export class HttpServerError extends Error {
  readonly code = 'E_HTTP_LISTEN';
  constructor(
    readonly host: string,
    readonly port: number,
    override readonly cause: NodeJS.ErrnoException,
  ) {
    super(`cannot listen on ${isIP(host) === 6 ? `[${host}]` : host}:${port}: ${listenFailureReason(host, port, cause)}`);
    this.name = 'HttpServerError';
  }
}

function listenFailureReason(host: string, port: number, cause: NodeJS.ErrnoException): string {
  switch (cause.code) {
    case 'EADDRINUSE':
      return 'the address is already in use (another ygg, or another program, listens there)';
    case 'EACCES':
      return port < 1024 ? `permission denied (port ${port} is below 1024: that needs root or CAP_NET_BIND_SERVICE)` : 'permission denied';
    case 'EADDRNOTAVAIL':
      return `${host} is not an address of this machine`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name "${host}" does not resolve`;
    default:
      return cause.message;
  }
}

/** `host:port`, with an IPv6 host in brackets: the form parseListenAddress reads back. */
export function formatHostPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** `server.listen`, resolving once it listens, or rejecting with an HttpServerError. */
export function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(new HttpServerError(host, port, error));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
