// A job's health check (http / tcp / exec), one probe (health-monitor.ts runs it on its interval).
// Naming registration follows the monitor's transitions, so a check must answer within its timeout no
// matter what the job does: a server that accepts and never answers, a probe that hangs forever.
// And it must probe where traffic arrives: the host's IP that naming registers, never loopback.
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import type { HealthCheck } from '../model/types.js';
import { signalProcessGroup } from './process-group.js';

export interface HealthResult {
  readonly healthy: boolean;
  readonly detail: string;
}

export interface HealthCheckContext {
  /**
   * The host's IP as the assignment carries it (the Host document's ip): naming registers it and LVS
   * sends traffic to it, so http and tcp checks connect there unless the check names its own `host`.
   * Probing loopback instead would pass for a job the LB cannot reach and fail one bound to its IP.
   */
  readonly hostIp: string;
  /** For exec checks: the release directory. */
  readonly cwd?: string;
  /** For exec checks: the whole environment, built as for the job itself (plus YGG_HOST_IP). Default: the agent's. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Aborting ends the check at once (the monitor stopping): the result is unhealthy, "aborted". */
  readonly signal?: AbortSignal;
}

/** The check names a port the job does not declare, or declares no kind: the spec is wrong. */
export class HealthCheckSpecError extends Error {
  readonly code = 'E_HEALTH_CHECK_SPEC';
  constructor(reason: string) {
    super(`invalid health check: ${reason}`);
    this.name = 'HealthCheckSpecError';
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message };
  }
}

const DETAIL_MAX_CHARS = 200;

/** Where an http or tcp check connects. */
interface ProbeTarget {
  readonly host: string;
  readonly port: number;
  /** The host's IP, not a per-check override: a refusal there may be a job bound to loopback only. */
  readonly isHostIp: boolean;
}

type Settle = (result: HealthResult) => void;

export async function runHealthCheck(check: HealthCheck, ports: Readonly<Record<string, number>>, context: HealthCheckContext): Promise<HealthResult> {
  const timeoutMs = check.timeoutSeconds * 1000;
  const targetOf = (probe: { readonly port: string; readonly host?: string }): ProbeTarget => {
    const port = ports[probe.port];
    if (port === undefined) throw new HealthCheckSpecError(`port "${probe.port}" is not one of the job's ports (${Object.keys(ports).sort().join(', ') || 'none'})`);
    return { host: probe.host ?? context.hostIp, port, isHostIp: probe.host === undefined };
  };
  if (context.signal?.aborted) return { healthy: false, detail: 'aborted' };
  if (check.http) return probeHttp(targetOf(check.http), check.http.path, timeoutMs, context.signal);
  if (check.tcp) return probeTcp(targetOf(check.tcp), timeoutMs, context.signal);
  if (check.exec) return probeExec(check.exec.command, timeoutMs, context);
  throw new HealthCheckSpecError('none of http, tcp, exec is set');
}

/** Settles once, whichever of answer, error, timeout or abort comes first, and always cleans up. */
function raceProbe(timeoutMs: number, signal: AbortSignal | undefined, start: (settle: Settle) => () => void): Promise<HealthResult> {
  return new Promise((resolve) => {
    let settled = false;
    let cleanup = () => {};
    const settle = (result: HealthResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      cleanup();
      resolve(result);
    };
    const onAbort = () => settle({ healthy: false, detail: 'aborted' });
    const timer = setTimeout(() => settle({ healthy: false, detail: `timed out after ${timeoutMs} ms` }), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    cleanup = start(settle);
    if (settled) cleanup();
  });
}

function probeHttp(target: ProbeTarget, path: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<HealthResult> {
  return raceProbe(timeoutMs, signal, (settle) => {
    const failure = connectFailure(target, settle);
    // agent: false — a fresh connection each time: a pooled socket would hide a listener that died
    const request = http.get({ host: target.host, port: target.port, path, agent: false, headers: { 'user-agent': 'ygg-agent-health', connection: 'close' } }, (response) => {
      const status = response.statusCode ?? 0;
      response.resume();
      settle({ healthy: status >= 200 && status < 300, detail: `HTTP ${status} from ${path}` });
    });
    request.on('error', failure.report);
    return () => {
      request.destroy();
      failure.cleanup();
    };
  });
}

function probeTcp(target: ProbeTarget, timeoutMs: number, signal: AbortSignal | undefined): Promise<HealthResult> {
  return raceProbe(timeoutMs, signal, (settle) => {
    const failure = connectFailure(target, settle);
    const socket = net.connect({ host: target.host, port: target.port });
    socket.on('connect', () => settle({ healthy: true, detail: `connected to ${formatAddress(target.host, target.port)}` }));
    socket.on('error', failure.report);
    return () => {
      socket.destroy();
      failure.cleanup();
    };
  });
}

/**
 * Reports a failed connect. A refusal at the host's IP while loopback accepts on the same port is
 * almost always a job bound to 127.0.0.1 only, and "connection refused" alone sends people looking
 * for a dead process: one extra loopback connect (only on that failure) lets the detail say why.
 */
function connectFailure(target: ProbeTarget, settle: Settle): { report: (error: Error) => void; cleanup: () => void } {
  let loopbackSocket: net.Socket | undefined;
  let cleanedUp = false;
  const report = (error: Error) => {
    // an error emitted by the clean-up's own destroy must not open a socket nobody closes
    if (cleanedUp) return;
    const detail = describeError(error);
    const loopback = net.isIPv6(target.host) ? '::1' : '127.0.0.1';
    if ((error as NodeJS.ErrnoException).code !== 'ECONNREFUSED' || !target.isHostIp || target.host === loopback) return settle({ healthy: false, detail });
    loopbackSocket = net.connect({ host: loopback, port: target.port });
    const hint = `the check probes the host IP (the address naming registers); ${formatAddress(loopback, target.port)} accepts: is the job bound to ${loopback} only?`;
    loopbackSocket.on('connect', () => settle({ healthy: false, detail: `${detail} — ${hint}` }));
    loopbackSocket.on('error', () => settle({ healthy: false, detail }));
  };
  const cleanup = () => {
    cleanedUp = true;
    loopbackSocket?.destroy();
  };
  return { report, cleanup };
}

function probeExec(command: readonly string[], timeoutMs: number, context: HealthCheckContext): Promise<HealthResult> {
  const [file, ...args] = command;
  if (file === undefined) throw new HealthCheckSpecError('exec command is empty');
  // The address a script should check is the one traffic arrives at, given rather than guessed.
  const env = { ...(context.env ?? process.env), YGG_HOST_IP: context.hostIp };
  return raceProbe(timeoutMs, context.signal, (settle) => {
    // detached: its own process group, so a timeout kills the probe and whatever it started
    const child = spawn(file, args, { cwd: context.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-DETAIL_MAX_CHARS));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => settle({ healthy: false, detail: describeError(error) }));
    // 'exit', not 'close': a grandchild holding the pipes open must not stretch the check
    child.on('exit', (code, signalName) => {
      const tail = output.trim();
      const how = code !== null ? `exit ${code}` : `killed by ${signalName}`;
      settle({ healthy: code === 0, detail: tail ? `${how}: ${tail}` : how });
    });
    return () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) signalProcessGroup(child.pid, 'SIGKILL');
      child.stdout.destroy();
      child.stderr.destroy();
    };
  });
}

function formatAddress(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** "connect ECONNREFUSED 10.1.0.11:8080" already names its code; other messages get it in front. */
function describeError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}
