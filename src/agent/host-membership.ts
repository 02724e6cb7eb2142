// An agent started with a --host that no Host document of the commit in force names (a typo, a host
// not yet merged) would wait for assignments that never come. It says so, loudly and repeatedly,
// naming the closest known host, and keeps asking: the host may be added by the next commit.
import type { Logger } from 'pino';
import type { KeyLayout } from '../store/keys.js';
import { isSyncCurrentRecord } from '../store/record-checks.js';
import { anyJson, type EtcdStateStore } from '../store/state-store.js';
import { closestMatch } from '../util/closest-match.js';

export interface HostMembershipOptions {
  readonly store: EtcdStateStore;
  readonly layout: KeyLayout;
  readonly host: string;
  readonly logger: Logger;
  readonly intervalMs?: number;
}

export type Membership = { readonly known: true } | { readonly known: false; readonly hosts: number; readonly closest?: string; readonly commit?: string };

/** Whether hosts/ names `host`. An empty hosts/ (no controller yet, or an older one) proves nothing: known. */
export async function readMembership(store: EtcdStateStore, layout: KeyLayout, host: string): Promise<Membership> {
  const own = await store.getJson(layout.host(host), anyJson);
  if (own.entry) return { known: true };
  const names = (await store.client.getAll().prefix(layout.hosts).keys()).map((key) => key.slice(layout.hosts.length));
  if (names.length === 0) return { known: true };
  const current = await store.getJson(layout.syncCurrent, isSyncCurrentRecord);
  const closest = closestMatch(host, names);
  const commit = current.entry?.value.commit.sha;
  return { known: false, hosts: names.length, ...(closest ? { closest } : {}), ...(commit ? { commit } : {}) };
}

/** Checks now and every `intervalMs` (default 30 s) until the host is known; returns a stop function. */
export function watchMembership(options: HostMembershipOptions): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const check = async () => {
    const membership = await readMembership(options.store, options.layout, options.host).catch(() => undefined);
    if (stopped) return;
    if (membership && !membership.known) {
      const hint = membership.closest ? `; did you mean ${membership.closest}?` : '';
      const commit = membership.commit ? ` of commit ${membership.commit.slice(0, 12)}` : '';
      options.logger.error(
        { event: 'host_unknown', knownHosts: membership.hosts, closest: membership.closest, commit: membership.commit },
        `host ${options.host} is not a Host${commit} (${membership.hosts} hosts known${hint}); nothing will be assigned to it — check --host`,
      );
    }
    if (membership?.known) return;
    timer = setTimeout(() => void check(), options.intervalMs ?? 30_000);
  };
  void check();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
