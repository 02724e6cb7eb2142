// Reading a cluster's state once, for commands that report on it (status, blame, plan --etcd).
import type { Etcd3 } from 'etcd3';
import { FleetInformer } from '../controller/fleet-informer.js';
import { connectEtcd } from '../store/etcd-connection.js';
import { keyLayout, type KeyLayout } from '../store/keys.js';
import { EtcdStateStore } from '../store/state-store.js';
import { StoreError } from '../store/store-errors.js';
import { etcdConnectionFromFlags, type EtcdFlagValues } from './etcd-options.js';

/** etcd could not be read: a clear line and exit code 1, never a stack trace. */
export class ClusterUnavailableError extends Error {
  readonly code = 'E_CLUSTER_UNAVAILABLE';
}

export interface ClusterView {
  readonly client: Etcd3;
  readonly layout: KeyLayout;
  readonly store: EtcdStateStore;
  readonly mirror: FleetInformer;
  readonly problems: readonly string[];
}

/** Connects, reads the mirror once, runs `use`, and always closes the client. */
export async function withCluster<T>(values: EtcdFlagValues, use: (cluster: ClusterView) => Promise<T>): Promise<T> {
  const { connection, prefix } = etcdConnectionFromFlags(values);
  let client: Etcd3;
  try {
    client = await connectEtcd({ ...connection, dialTimeoutMs: connection.dialTimeoutMs ?? 3000 });
  } catch (error) {
    if (error instanceof StoreError) throw new ClusterUnavailableError(error.message);
    throw error;
  }
  try {
    const layout = keyLayout(prefix);
    const store = new EtcdStateStore(client, layout);
    const problems: string[] = [];
    const mirror = new FleetInformer(store, layout, { onChange: () => {}, onProblem: (key, problem) => problems.push(`${key}: ${problem}`) });
    await mirror.load().catch((error: unknown) => {
      if (error instanceof StoreError) throw new ClusterUnavailableError(error.message);
      throw error;
    });
    return await use({ client, layout, store, mirror, problems });
  } finally {
    client.close();
  }
}
