// The bench's handle on the observer process (fleet-observer-process.ts): start it, follow a change
// until the director's config caught up, read the write counts, stop it.
import { fork, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import path from 'node:path';
import type { ConvergenceTimes } from './fleet-observer.js';
import type { ObserverOrder, ObserverReply, ObserverRule } from './fleet-observer-process.js';

export interface RemoteObserver {
  /** Resolves once the observer took its picture (start the change then); `done` when converged. */
  follow(rule: ObserverRule, director: string, timeoutMs: number): Promise<{ readonly done: Promise<ConvergenceTimes> }>;
  writes(): Promise<Map<string, number>>;
  close(): Promise<void>;
}

export async function startRemoteObserver(etcdUrl: string, prefix: string, workDir: string): Promise<RemoteObserver> {
  const child: ChildProcess = fork(path.join(import.meta.dirname, 'fleet-observer-process.ts'), [etcdUrl, prefix], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', openSync(path.join(workDir, 'observer.log'), 'a'), 'ipc'] });
  const waiting = new Map<number, (reply: ObserverReply) => void>();
  let ids = 0;
  child.on('message', (reply: ObserverReply) => {
    if ('id' in reply) waiting.get(reply.id)?.(reply);
  });
  await new Promise<void>((resolve, reject) => {
    child.on('message', (reply: ObserverReply) => reply.type === 'ready' && resolve());
    child.once('exit', (code) => reject(new Error(`observer exited (${code}) before it was ready; see observer.log in the work dir`)));
  });
  /** Sends `order` and hands every reply to it to `onReply`, until that returns true. */
  const ask = (order: ObserverOrder, onReply: (reply: ObserverReply) => boolean) => {
    waiting.set(order.id, (reply) => onReply(reply) && waiting.delete(order.id));
    child.send(order);
  };
  return {
    follow: (rule, director, timeoutMs) =>
      new Promise((resolveFollowing) => {
        let settle!: { resolve: (times: ConvergenceTimes) => void; reject: (error: Error) => void };
        const done = new Promise<ConvergenceTimes>((resolve, reject) => (settle = { resolve, reject }));
        ask({ type: 'follow', id: ++ids, rule, director, timeoutMs }, (reply) => {
          if (reply.type === 'following') resolveFollowing({ done });
          else if (reply.type === 'converged') settle.resolve(reply.times);
          else if (reply.type === 'failed') settle.reject(new Error(reply.error));
          return reply.type !== 'following';
        });
      }),
    writes: () => new Promise((resolve) => ask({ type: 'writes', id: ++ids }, (reply) => reply.type === 'writes' && (resolve(new Map(Object.entries(reply.writes))), true))),
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
