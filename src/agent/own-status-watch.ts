// A status key of this host deleted or garbled by hand (or by a tool) is written again at once. The
// controller counts an instance without a status as not up, so a rollout waiting on it would call
// it late and, with autoRevert, revert a healthy deploy. A 30 s metrics rewrite of every status used
// to hide this; the agent now writes statuses only when they change.
import type { KeyLayout } from '../store/keys.js';
import { anyJson, type EtcdStateStore, type WatchHandle } from '../store/state-store.js';

export interface OwnStatusWatchOptions {
  readonly store: EtcdStateStore;
  readonly layout: KeyLayout;
  readonly host: string;
  readonly fromRevision: string;
  /** The jobs this agent runs (whose status must be there). */
  readonly running: () => Iterable<string>;
  /** Write the job's status again, though nothing changed. */
  readonly rewrite: (job: string) => void;
}

export function watchOwnStatuses(options: OwnStatusWatchOptions): WatchHandle {
  const { store, layout, host } = options;
  const prefix = layout.statuses(host);
  return store.watchPrefix(
    prefix,
    options.fromRevision,
    (event) => {
      if (event.type === 'delete' || event.type === 'skipped') options.rewrite(event.key.slice(prefix.length));
      else if (event.type === 'resync') for (const job of options.running()) if (!event.entries.has(layout.status(host, job))) options.rewrite(job);
    },
    { check: anyJson },
  );
}
