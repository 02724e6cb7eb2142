// The renderer's view of etcd: the declared VIPs (vips/) and the live endpoints (naming/), read once
// and then kept current by ONE watch on the whole prefix, which resumes after a disconnect and hands
// us the whole prefix again after a compaction. `current()` turns it into RenderData, sorted, so the
// same etcd content always renders the same bytes. It also says whether it can be trusted right now
// (connected, or just rebuilt from an empty prefix), which the empty-set guard needs.
import { EventEmitter } from 'node:events';
import type { KeyLayout } from '../store/keys.js';
import { isNamingRecord, isVipRecord } from '../store/record-checks.js';
import type { NamingRecord, VipRecord } from '../store/records.js';
import { anyJson, type EtcdStateStore, type WatchEvent, type WatchHandle } from '../store/state-store.js';
import { compareEndpoints, compareText } from './compare-endpoints.js';
import type { RenderData, RenderEndpoint, RenderService } from './render-data.js';

export interface EndpointViewOptions {
  /** A value under vips/ or naming/ that is not a valid record: it is left out, and reported here. */
  readonly onProblem?: (key: string, problem: string) => void;
}

/** What the debounced renderer needs from a view: data, trust, and a `changed` event. */
export interface RenderSource {
  current(director?: string): RenderData;
  /** False while the watch is cut off from etcd: what we hold may be stale. */
  readonly connected: boolean;
  /** True when the last thing that changed the view was a resync that found no endpoint at all. */
  readonly resyncedEmpty: boolean;
  on(event: 'changed', listener: () => void): unknown;
  off(event: 'changed', listener: () => void): unknown;
}

interface VipEntry {
  readonly record: VipRecord;
  readonly modRevision: bigint;
}

export class EndpointView extends EventEmitter implements RenderSource {
  private readonly vips = new Map<string, VipEntry>();
  /** service → `host:port` → record */
  private readonly endpoints = new Map<string, Map<string, NamingRecord>>();
  private watch: WatchHandle | undefined;
  private revision = '0';
  private isConnected = true;
  private isResyncedEmpty = false;

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

  get resyncedEmpty(): boolean {
    return this.isResyncedEmpty;
  }

  /** Reads vips/ and naming/, then watches the prefix from the older of the two reads' revisions. */
  async start(): Promise<void> {
    const [vips, namings] = await Promise.all([this.layout.vips, this.layout.namings()].map((prefix) => this.store.getPrefixJson(prefix, anyJson)));
    this.rebuild(new Map([...vips!.entries, ...namings!.entries]));
    // Replaying the few changes between the two reads is harmless: events apply in order.
    const from = BigInt(vips!.revision) < BigInt(namings!.revision) ? vips!.revision : namings!.revision;
    this.revision = from;
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
    const names = new Set([...this.vips.keys(), ...(director === undefined ? this.endpoints.keys() : [])]);
    const services: RenderService[] = [];
    for (const name of [...names].sort(compareText)) {
      const vip = this.vips.get(name)?.record;
      if (director !== undefined && !vip?.directors.includes(director)) continue;
      const endpoints = [...(this.endpoints.get(name)?.values() ?? [])].map(toRenderEndpoint).sort(compareEndpoints);
      if (vip) {
        services.push({ name, job: vip.job, port: vip.port, vip: vip.vip, directors: [...vip.directors].sort(compareText), endpoints });
      } else {
        // A service without a VIP is known only by its endpoints: DNS names them directly.
        services.push({ name, job: endpoints[0]?.job ?? '', port: '', directors: [], endpoints });
      }
    }
    const commit = this.commitOf(services);
    return { ...(director !== undefined && { director }), services, ...(commit !== undefined && { commit }), revision: this.revision };
  }

  /** The live endpoints of one service, sorted by ip then port (for `ygg resolve`). */
  endpointsOf(service: string): NamingRecord[] {
    return [...(this.endpoints.get(service)?.values() ?? [])].sort(compareEndpoints);
  }

  /** The commit of the newest VIP record among the services rendered. */
  private commitOf(services: readonly RenderService[]): string | undefined {
    let newest: VipEntry | undefined;
    for (const service of services) {
      const entry = this.vips.get(service.name);
      if (entry && (!newest || entry.modRevision > newest.modRevision)) newest = entry;
    }
    return newest?.record.commit;
  }

  private onEvent(event: WatchEvent<unknown>): void {
    if (event.type === 'resync') {
      this.rebuild(event.entries);
      this.revision = event.revision;
      this.isResyncedEmpty = this.endpoints.size === 0;
      this.emit('changed');
      return;
    }
    if (!this.isRelevant(event.key)) return;
    this.ingest(event.key, event.type === 'put' ? event.value : undefined, BigInt(event.modRevision));
    if (event.type === 'skipped') this.options.onProblem?.(event.key, event.problem);
    this.revision = event.modRevision;
    this.isResyncedEmpty = false;
    this.emit('changed');
  }

  private isRelevant(key: string): boolean {
    return key.startsWith(this.layout.vips) || key.startsWith(this.layout.namings());
  }

  private rebuild(entries: ReadonlyMap<string, { readonly value: unknown; readonly modRevision: string }>): void {
    this.vips.clear();
    this.endpoints.clear();
    for (const [key, entry] of entries) if (this.isRelevant(key)) this.ingest(key, entry.value, BigInt(entry.modRevision));
  }

  /** Puts (value) or deletes (undefined) one key; a malformed value counts as absent. */
  private ingest(key: string, value: unknown, modRevision: bigint): void {
    if (key.startsWith(this.layout.vips)) {
      const service = key.slice(this.layout.vips.length);
      if (value !== undefined && isVipRecord(value)) this.vips.set(service, { record: value, modRevision });
      else {
        if (value !== undefined) this.options.onProblem?.(key, 'not a valid VipRecord: ignored');
        this.vips.delete(service);
      }
      return;
    }
    const [service, address] = key.slice(this.layout.namings().length).split('/');
    if (!service || !address) return;
    let byAddress = this.endpoints.get(service);
    if (value !== undefined && isNamingRecord(value)) {
      if (!byAddress) this.endpoints.set(service, (byAddress = new Map()));
      byAddress.set(address, value);
      return;
    }
    if (value !== undefined) this.options.onProblem?.(key, 'not a valid NamingRecord: ignored');
    byAddress?.delete(address);
    if (byAddress?.size === 0) this.endpoints.delete(service);
  }
}

function toRenderEndpoint(record: NamingRecord): RenderEndpoint {
  return { host: record.host, ip: record.ip, port: record.port, weight: record.weight, job: record.job };
}
