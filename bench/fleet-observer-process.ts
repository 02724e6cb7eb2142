// The fleet simulator's observer in a process of its own, with its own etcd client and watch on the
// whole prefix, so the bench process holds the controller alone and its CPU and RSS figures are
// the controller's. Forked by remote-observer.ts; orders and replies go over IPC.
import { connectEtcd, EtcdStateStore, keyLayout } from './compiled.js';
import { FleetObserver, type ConvergenceTimes, type InstanceKey } from './fleet-observer.js';

export type ObserverRule = { readonly kind: 'rollout'; readonly instances: readonly InstanceKey[]; readonly first: boolean } | { readonly kind: 'lost'; readonly instances: readonly InstanceKey[] };

export type ObserverOrder = { readonly type: 'follow'; readonly id: number; readonly rule: ObserverRule; readonly director: string; readonly timeoutMs: number } | { readonly type: 'writes'; readonly id: number };

export type ObserverReply =
  | { readonly type: 'ready' }
  /** The rule took its picture of the state: what happens from now on counts. */
  | { readonly type: 'following'; readonly id: number }
  | { readonly type: 'converged'; readonly id: number; readonly times: ConvergenceTimes }
  | { readonly type: 'failed'; readonly id: number; readonly error: string }
  | { readonly type: 'writes'; readonly id: number; readonly writes: Readonly<Record<string, number>> };

const [etcdUrl, prefix] = process.argv.slice(2) as [string, string];
const layout = keyLayout(prefix);
const client = await connectEtcd({ endpoints: [etcdUrl] });
const observer = new FleetObserver(new EtcdStateStore(client, layout), layout);
await observer.start();
const send = (reply: ObserverReply) => process.send!(reply);

process.on('message', (order: ObserverOrder) => {
  if (order.type === 'writes') {
    send({ type: 'writes', id: order.id, writes: Object.fromEntries(observer.writes) });
    return;
  }
  const rule = order.rule.kind === 'rollout' ? observer.rolloutRule(order.rule.instances, order.rule.first) : observer.lostRule(order.rule.instances);
  observer.follow(rule, order.director, order.timeoutMs).then(
    (times) => send({ type: 'converged', id: order.id, times }),
    (error: unknown) => send({ type: 'failed', id: order.id, error: (error as Error).message }),
  );
  send({ type: 'following', id: order.id });
});
process.on('SIGTERM', () => {
  void observer.close().finally(() => {
    client.close();
    process.exit(0);
  });
});
send({ type: 'ready' });
