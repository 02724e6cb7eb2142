// The renderer's view of etcd: the declared VIPs (vips/), the live endpoints (naming/), the commit in
// force (sync/current), the hosts (hosts/), their agents (agents/, lost/) and the zones (zones/), read
// once and then kept current by one watch per range, each resuming after a disconnect and handing
// us its range again after a compaction or a reset. Only those ranges: a director's credential may
// read nothing else (not assign/, which holds every job's env), and the fleet's status churn never
// reaches it. `current()` turns it into RenderData, sorted, so the same etcd content
// always renders the same bytes. `facts()` says what the store looks like as a whole — connected,
// at which revision, with which commit — which the render gate needs to tell a reset from a change.
import { EventEmitter } from 'node:events';
import type { KeyLayout } from '../store/keys.js';
import type { RangeRead, WatchRange } from '../store/range-watch.js';
import { anyJson, type EtcdStateStore, type WatchEvent, type WatchHandle } from '../store/state-store.js';
import type { RenderData } from './render-data.js';
import { RenderInputs } from './render-inputs.js';
import { renderRanges } from './render-ranges.js';

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
  private watches: WatchHandle[] = [];
  /** Watches cut off from etcd now. */
  private readonly disconnected = new Set<number>();
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

  /** Reads what a render needs, then watches each range from its read's revision. */
  async start(): Promise<void> {
    const ranges = renderRanges(this.layout);
    const reads = await Promise.all(ranges.map((range) => this.read(range)));
    const revisions = reads.map((read) => BigInt(read.revision));
    const from = String(revisions.reduce((a, b) => (a < b ? a : b)));
    this.rebuild({ entries: new Map(reads.flatMap((read) => [...read.entries])), skipped: reads.flatMap((read) => read.skipped), revision: from });
    this.storeRevision = String(revisions.reduce((a, b) => (a > b ? a : b)));
    this.watches = ranges.map((range, index) => {
      const handler = (event: WatchEvent<unknown>) => this.onEvent(event, range);
      const options = {
        onError: (error: unknown) => this.options.onProblem?.(rangeName(range), String(error)),
        onConnectionChange: (connected: boolean) => this.onConnectionChange(index, connected),
      };
      const revision = reads[index]!.revision;
      return 'prefix' in range ? this.store.watchPrefix(range.prefix, revision, handler, options) : this.store.watchKey(range.key, revision, handler, options);
    });
  }

  async close(): Promise<void> {
    const closing = this.watches;
    this.watches = [];
    await Promise.all(closing.map((watch) => watch.close()));
  }

  private async read(range: WatchRange): Promise<RangeRead<unknown>> {
    if ('prefix' in range) return this.store.getPrefixJson(range.prefix, anyJson);
    const { entry, skipped, revision } = await this.store.getJson(range.key, anyJson);
    return { entries: new Map(entry ? [[range.key, entry]] : []), skipped, revision };
  }

  /** Connected while every watch is. */
  private onConnectionChange(watch: number, connected: boolean): void {
    if (connected) this.disconnected.delete(watch);
    else this.disconnected.add(watch);
    const now = this.disconnected.size === 0;
    if (now === this.isConnected) return;
    this.isConnected = now;
    // Reconnecting changes nothing in the data, but a renderer holding a file may now go ahead.
    this.emit(now ? 'changed' : 'disconnected');
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

  private onEvent(event: WatchEvent<unknown>, range: WatchRange): void {
    if (event.type === 'resync') {
      if (BigInt(event.revision) < BigInt(this.storeRevision)) this.options.onRevisionBackwards?.(this.storeRevision, event.revision);
      this.rebuild(event, this.relative(rangeName(range)));
      this.storeRevision = event.revision;
      this.emit('changed');
      return;
    }
    if (BigInt(event.modRevision) > BigInt(this.storeRevision)) this.storeRevision = event.modRevision;
    const key = this.relative(event.key);
    if (!RenderInputs.reads(key)) return;
    const version = this.inputs.version;
    if (event.type === 'put') this.report(event.key, this.inputs.put(key, event.value));
    else if (event.type === 'delete') this.inputs.remove(key, event.modRevision);
    else this.report(event.key, this.inputs.reject(key, event.problem));
    // Refreshed agent facts change nothing to render.
    if (this.inputs.version === version) return;
    if (RenderInputs.serves(key)) this.revision = event.modRevision;
    this.emit('changed');
  }

  /** Takes `read` as the whole of the keys under `scope` (relative; '' for every range). */
  private rebuild(read: RangeRead<unknown>, scope = ''): void {
    const values = new Map<string, unknown>();
    for (const [key, entry] of read.entries) if (RenderInputs.reads(this.relative(key))) values.set(this.relative(key), entry.value);
    const rejected = read.skipped.map((entry) => ({ key: this.relative(entry.key), problem: entry.problem })).filter((entry) => RenderInputs.reads(entry.key));
    this.inputs.replaceAll(values, rejected, read.revision, scope);
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

function rangeName(range: WatchRange): string {
  return 'prefix' in range ? range.prefix : range.key;
}
