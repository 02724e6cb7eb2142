// The worker processes of the watch fan-out bench (watch-fanout-worker.ts), seen from the
// orchestrator: started with their share of hosts, then asked when each host saw a probe.
import { fork, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FanoutWorkerAsk, FanoutWorkerOrders, FanoutWorkerReply } from './watch-fanout-worker.js';

type Reply<T extends FanoutWorkerReply['type']> = Extract<FanoutWorkerReply, { type: T }>;

export interface FanoutWorkerOptions {
  readonly workDir: string;
  readonly workers: number;
  readonly hosts: readonly string[];
  readonly order: Omit<FanoutWorkerOrders, 'hosts'>;
}

export class FanoutWorkers {
  private constructor(
    private readonly children: readonly ChildProcess[],
    /** Slowest worker's time to open all its sessions. */
    readonly startMs: number,
  ) {}

  static async start(options: FanoutWorkerOptions): Promise<FanoutWorkers> {
    const shares: string[][] = Array.from({ length: options.workers }, () => []);
    options.hosts.forEach((host, index) => shares[index % options.workers]!.push(host));
    const children = shares
      .filter((share) => share.length > 0)
      .map((hosts, index) => {
        const orders: FanoutWorkerOrders = { ...options.order, hosts };
        const stderr = openSync(path.join(options.workDir, `worker-${index}.log`), 'a');
        return fork(path.join(import.meta.dirname, 'watch-fanout-worker.ts'), [JSON.stringify(orders)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', stderr, 'ipc'] });
      });
    const ready = await Promise.all(children.map((child) => nextReply(child, 'ready', () => true)));
    return new FanoutWorkers(children, Math.max(...ready.map((reply) => reply.startMs)));
  }

  get pids(): number[] {
    return this.children.map((child) => child.pid!);
  }

  /** When each host saw shared probe `probe` (epoch ms); hosts that had not by `timeoutMs` are
   * missing. Call before the put: it listens from the start. */
  async sharedProbe(probe: number, timeoutMs: number): Promise<number[]> {
    const replies = await Promise.all(
      this.children.map(async (child) => {
        const matches = (reply: Reply<'shared'>) => reply.probe === probe;
        const late = new AbortController();
        const whole = nextReply(child, 'shared', matches).finally(() => late.abort());
        const flushed = sleep(timeoutMs, undefined, { signal: late.signal }).then(
          () => nextReply(child, 'shared', matches, { type: 'flush', probe }),
          () => whole,
        );
        return Promise.race([whole, flushed]);
      }),
    );
    return replies.flatMap((reply) => reply.receivedAtMs);
  }

  /** When `host` saw probe `probe` on its assign/ prefix (epoch ms); undefined after `timeoutMs`.
   * Call before the put. */
  assignProbe(probe: number, host: string, timeoutMs: number): Promise<number | undefined> {
    return new Promise((resolve) => {
      const done = (receivedAtMs: number | undefined) => {
        clearTimeout(timer);
        for (const child of this.children) child.off('message', onMessage);
        resolve(receivedAtMs);
      };
      const onMessage = (reply: FanoutWorkerReply) => {
        if (reply.type === 'assign' && reply.probe === probe && reply.host === host) done(reply.receivedAtMs);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      for (const child of this.children) child.on('message', onMessage);
    });
  }

  async failures(): Promise<{ leasesLost: number; watchErrors: number; resyncs: number }> {
    const replies = await Promise.all(this.children.map((child) => nextReply(child, 'failures', () => true, { type: 'failures' })));
    const total = (field: 'leasesLost' | 'watchErrors' | 'resyncs') => sum(replies.map((reply) => reply[field]));
    return { leasesLost: total('leasesLost'), watchErrors: total('watchErrors'), resyncs: total('resyncs') };
  }

  async stop(): Promise<void> {
    const running = this.children.filter((child) => child.exitCode === null && child.signalCode === null);
    const exits = running.map((child) => new Promise((resolve) => child.once('exit', resolve)));
    for (const child of running) child.kill('SIGTERM');
    await Promise.race([Promise.all(exits), sleep(15_000)]);
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** The next reply of `type` that `matches`, after sending `ask` if given; rejects if the worker exits. */
function nextReply<T extends FanoutWorkerReply['type']>(child: ChildProcess, type: T, matches: (reply: Reply<T>) => boolean, ask?: FanoutWorkerAsk): Promise<Reply<T>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FanoutWorkerReply) => {
      if (message.type !== type || !matches(message as Reply<T>)) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as Reply<T>);
    };
    const onExit = (code: number | null) => reject(new Error(`fan-out worker exited (${code}) before "${type}"; see its log in the work dir`));
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (ask) child.send(ask);
  });
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
