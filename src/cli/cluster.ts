// Reading a cluster's state once, for commands that report on it (status, blame, plan --etcd). etcd
// errors (StoreError) pass through: main prints them as one line with what to check.
import type { Etcd3 } from 'etcd3';
import { FleetInformer } from '../controller/fleet-informer.js';
import { connectEtcd } from '../store/etcd-connection.js';
import { keyLayout, type KeyLayout } from '../store/keys.js';
import { EtcdStateStore } from '../store/state-store.js';
import { etcdConnectionFromFlags, type EtcdFlagValues } from './etcd-options.js';

export interface ClusterView {
  readonly client: Etcd3;
  readonly layout: KeyLayout;
  readonly store: EtcdStateStore;
  readonly mirror: FleetInformer;
  readonly problems: readonly string[];
}

export interface EtcdView {
  readonly client: Etcd3;
  readonly layout: KeyLayout;
  readonly store: EtcdStateStore;
}

/** Connects, runs `use`, and always closes the client. */
export async function withEtcd<T>(values: EtcdFlagValues, use: (etcd: EtcdView) => Promise<T>): Promise<T> {
  const { connection, prefix } = etcdConnectionFromFlags(values);
  const client = await connectEtcd({ ...connection, dialTimeoutMs: connection.dialTimeoutMs ?? 3000 });
  try {
    const layout = keyLayout(prefix);
    return await use({ client, layout, store: new EtcdStateStore(client, layout) });
  } finally {
    client.close();
  }
}

/** Connects, reads the mirror once, runs `use`, and always closes the client. */
export async function withCluster<T>(values: EtcdFlagValues, use: (cluster: ClusterView) => Promise<T>): Promise<T> {
  return withEtcd(values, async ({ client, layout, store }) => {
    const problems: string[] = [];
    const mirror = new FleetInformer(store, layout, { onChange: () => {}, onProblem: (key, problem) => problems.push(`${key}: ${problem}`) });
    await mirror.load();
    return use({ client, layout, store, mirror, problems });
  });
}
