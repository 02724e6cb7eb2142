// The renderer's view of etcd: the declared VIPs (vips/), the live endpoints (naming/), the commit in
// force (sync/current), the hosts (hosts/) and the zones (zones/), read once and then kept current by ONE watch on the
// whole prefix, which resumes after a disconnect and hands us the whole prefix again after a
// compaction or a reset. `current()` turns it into RenderData, sorted, so the same etcd content
// always renders the same bytes. `facts()` says what the store looks like as a whole — connected,
// at which revision, with which commit — which the render gate needs to tell a reset from a change.
import { EventEmitter } from 'node:events';
import type { KeyLayout } from '../store/keys.js';
import type { RangeRead } from '../store/range-watch.js';
import { anyJson, type EtcdStateStore, type WatchEvent, type WatchHandle } from '../store/state-store.js';
import type { RenderData } from './render-data.js';
import { RenderInputs } from './render-inputs.js';

export interface EndpointViewOptions {
  /** A value under a key the render reads that is not a valid record: reported here (full key). */
  readonly onProblem?: (key: string, problem: string) => void;
  /** The store's revision went backwards: etcd was restored or replaced under us. */
  readonly onRevisionBackwards?: (from: string, to: string) => void;
}

/** The store as a whole, as the view last saw it. */
export interface ViewFacts {
  readonly connected: boolean;
  /** The newest etcd revision seen on the store the view reads now (it drops after a reset). */
  readonly revision: string;
  /** sync/current's commit sha; undefined while the key is missing. */
  readonly syncCommit?: string;
  readonly vipRecords: number;
  readonly namingRecords: number;
  /** Directors named by VIP records or hosts/ records. */
  readonly directors: ReadonlySet<string>;
  /** Addresses of hosts whose agent is alive (see RenderInputs.liveAddresses). */
  readonly liveAddresses: ReadonlySet<string>;
}

/** What the debounced renderer needs from a view: data, facts, and a `changed` event. */
export interface RenderSource {
  current(director?: string): RenderData;
  facts(): ViewFacts;
  on(event: 'changed', listener: () => void): unknown;
  off(event: 'changed', listener: () => void): unknown;
}

export class EndpointView extends EventEmitter implements RenderSource {
  private readonly inputs = new RenderInputs();
  private watch: WatchHandle | undefined;
  /** The revision of the newest change to what is served (vips/, naming/), for the header. */
  private revision = '0';
  private storeRevision = '0';
  private isConnected = true;

  constructor(
    private readonly store: EtcdStateStore,
    private readonly layout: KeyLayout,
    private readonly options: EndpointViewOptions = {},
  ) {
    super();
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Reads what a render needs, then watches the prefix from the oldest of the reads' revisions. */
  async start(): Promise<void> {
    const prefixes = [this.layout.vips, this.layout.namings(), this.layout.hosts, this.layout.agents, this.layout.lostHosts, this.layout.zones];
    const [reads, current] = await Promise.all([Promise.all(prefixes.map((prefix) => this.store.getPrefixJson(prefix, anyJson))), this.store.getJson(this.layout.syncCurrent, anyJson)]);
    const entries = new Map(reads.flatMap((read) => [...read.entries]));
    if (current.entry) entries.set(this.layout.syncCurrent, current.entry);
    const revisions = [...reads, current].map((read) => BigInt(read.revision));
    const from = String(revisions.reduce((a, b) => (a < b ? a : b)));
    this.rebuild({ entries, skipped: [...reads.flatMap((read) => read.skipped), ...current.skipped], revision: from });
    this.storeRevision = String(revisions.reduce((a, b) => (a > b ? a : b)));
    // Replaying the few changes between the reads is harmless: events apply in order.
    this.watch = this.store.watchPrefix(this.layout.prefix, from, (event) => this.onEvent(event), {
      onError: (error) => this.options.onProblem?.(this.layout.prefix, String(error)),
      onConnectionChange: (connected) => {
        if (connected === this.isConnected) return;
        this.isConnected = connected;
        // Reconnecting changes nothing in the data, but a renderer holding a file may now go ahead.
        this.emit(connected ? 'changed' : 'disconnected');
      },
    });
  }

  async close(): Promise<void> {
    await this.watch?.close();
    this.watch = undefined;
  }

  /** The services a director serves (its VIPs), or every service with a VIP or endpoints (DNS). */
  current(director?: string): RenderData {
    return this.inputs.current(director, this.revision);
  }

  facts(): ViewFacts {
    const commit = this.inputs.commit;
    return {
      connected: this.isConnected,
      revision: this.storeRevision,
      ...(commit !== undefined && { syncCommit: commit }),
      vipRecords: this.inputs.vipRecords,
      namingRecords: this.inputs.namingRecords,
      directors: this.inputs.knownDirectors(),
      liveAddresses: this.inputs.liveAddresses(),
    };
  }

  private onEvent(event: WatchEvent<unknown>): void {
    if (event.type === 'resync') {
      if (BigInt(event.revision) < BigInt(this.storeRevision)) this.options.onRevisionBackwards?.(this.storeRevision, event.revision);
      this.rebuild(event);
      this.storeRevision = event.revision;
      this.emit('changed');
      return;
    }
    if (BigInt(event.modRevision) > BigInt(this.storeRevision)) this.storeRevision = event.modRevision;
    const key = this.relative(event.key);
    if (!RenderInputs.reads(key)) return;
    const version = this.inputs.version;
    if (event.type === 'put') this.report(event.key, this.inputs.put(key, event.value));
    else if (event.type === 'delete') this.inputs.remove(key);
    else this.report(event.key, this.inputs.reject(key, event.problem));
    // Refreshed agent facts change nothing to render.
    if (this.inputs.version === version) return;
    if (RenderInputs.serves(key)) this.revision = event.modRevision;
    this.emit('changed');
  }

  private rebuild(read: RangeRead<unknown>): void {
    const values = new Map<string, unknown>();
    for (const [key, entry] of read.entries) if (RenderInputs.reads(this.relative(key))) values.set(this.relative(key), entry.value);
    const rejected = read.skipped.map((entry) => ({ key: this.relative(entry.key), problem: entry.problem })).filter((entry) => RenderInputs.reads(entry.key));
    this.inputs.replaceAll(values, rejected);
    for (const { key, problem } of this.inputs.skippedInputs()) this.report(this.layout.prefix + key, problem);
    this.revision = read.revision;
  }

  private report(key: string, problem: string | undefined): void {
    if (problem !== undefined) this.options.onProblem?.(key, problem);
  }

  private relative(key: string): string {
    return key.startsWith(this.layout.prefix) ? key.slice(this.layout.prefix.length) : key;
  }
}
