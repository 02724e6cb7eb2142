// Follows the fleet in etcd the way the controller does (one read, then one watch, through the
// informer) and hands each new reading to the terminal: what is in force, per-job health, rollouts.
// Bursts of agent reports (dozens of status writes in a second) become one reading per interval.
import { FleetInformer } from '../controller/fleet-informer.js';
import { fleetStatus } from '../controller/fleet-status.js';
import type { ObservedState } from '../controller/observed-state.js';
import { connectEtcd, type EtcdConnectionOptions } from '../store/etcd-connection.js';
import { keyLayout } from '../store/keys.js';
import { EtcdStateStore } from '../store/state-store.js';
import type { FleetReading } from './dev-events.js';

export interface FleetFollower {
  /** The commit in force and where its instances run, for plans of uncommitted changes. */
  inForce(): { readonly sha: string; readonly observed: ObservedState } | undefined;
  close(): Promise<void>;
}

export async function followFleet(etcdUrl: string, prefix: string, onReading: (reading: FleetReading) => void, auth?: EtcdConnectionOptions['auth'], intervalMs = 100): Promise<FleetFollower> {
  // the run's own etcd, but with --secure this log-in queues behind every agent's on a busy machine
  const client = await connectEtcd({ endpoints: [etcdUrl], dialTimeoutMs: 10_000, ...(auth && { auth }) });
  const layout = keyLayout(prefix);
  let timer: NodeJS.Timeout | undefined;
  const read = (): FleetReading => ({ status: fleetStatus(informer.current(), informer.observed(), []), rollouts: informer.observed().rollouts });
  const informer = new FleetInformer(new EtcdStateStore(client, layout), layout, {
    onChange: () => {
      timer ??= setTimeout(() => {
        timer = undefined;
        onReading(read());
      }, intervalMs);
    },
  });
  try {
    await informer.start();
  } catch (error) {
    client.close();
    throw error;
  }
  onReading(read());
  return {
    inForce: () => {
      const sha = informer.current()?.commit.sha;
      return sha ? { sha, observed: informer.observed() } : undefined;
    },
    close: async () => {
      clearTimeout(timer);
      await informer.close();
      client.close();
    },
  };
}
