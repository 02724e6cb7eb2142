// The controller's in-memory mirror of etcd (an informer, as controller-runtime calls it): one read
// of the whole prefix, then one watch that keeps it current, resyncing after a compaction. A
// reconcile reads this mirror, never etcd, so it costs no round trip and no I/O. Writes the
// controller made are applied to the mirror at once, so the next reconcile does not repeat them
// before the watch echoes them back. It also keeps what only the console shows (agents' facts, live
// endpoints, directors' render status), and tells subscribers which keys changed. What the mirror
// holds and how a value enters it is fleet-mirror.ts.
import { anyJson } from '../store/decode-entry.js';
import { RENDERER_STATUS_NAME, type KeyLayout } from '../store/keys.js';
import type { SyncCurrentRecord } from '../store/records.js';
import type { BatchOp, EtcdStateStore, WatchEvent, WatchHandle } from '../store/state-store.js';
import { FleetMirror, type MirrorExtras } from './fleet-mirror.js';
import type { ObservedState } from './observed-state.js';
import { keyOf, OwnWrites, type ExpectedWrite } from './own-writes.js';
import type { StoreOp } from './reconcile-fleet.js';

export type { MirrorExtras } from './fleet-mirror.js';

/** A key the watch changed (`key`), or the whole mirror rebuilt after a resync. */
export type MirrorChange = { readonly key: string } | { readonly resync: true };

export interface InformerOptions {
  readonly onChange: () => void;
  readonly onProblem?: (key: string, problem: string) => void;
  readonly onConnectionChange?: (connected: boolean) => void;
}

export class FleetInformer {
  private readonly mirror: FleetMirror;
  private readonly subscribers = new Set<(change: MirrorChange) => void>();
  private readonly own = new OwnWrites();
  private watch: WatchHandle | undefined;

  constructor(
    private readonly store: EtcdStateStore,
    private readonly layout: KeyLayout,
    private readonly options: InformerOptions,
  ) {
    this.mirror = new FleetMirror(layout, options.onProblem);
  }

  /**
   * Reads what the mirror holds (not the ever-growing audit history) and returns a
   * revision every read includes. Watching the whole prefix from there may replay a few changes a
   * later read already had; they arrive in order, so the mirror ends up the same.
   */
  async load(): Promise<string> {
    const { layout, store } = this;
    const reads = await Promise.all([layout.assignments(), layout.statuses(), layout.agents, layout.rollouts, layout.vips, layout.hosts, layout.lostHosts, layout.namings(), layout.zones].map((prefix) => store.getPrefixJson(prefix, anyJson)));
    const current = await store.getJson(layout.syncCurrent, anyJson);
    const entries = new Map<string, { value: unknown }>();
    for (const read of reads) for (const [key, entry] of read.entries) entries.set(key, entry);
    if (current.entry) entries.set(layout.syncCurrent, current.entry);
    this.mirror.rebuild(entries);
    return [...reads.map((read) => read.revision), current.revision].reduce((low, revision) => (BigInt(revision) < BigInt(low) ? revision : low));
  }

  async start(): Promise<void> {
    const revision = await this.load();
    this.watch = this.store.watchPrefix(this.layout.prefix, revision, (event) => this.onEvent(event), {
      onError: (error) => this.options.onProblem?.(this.layout.prefix, String(error)),
      ...(this.options.onConnectionChange ? { onConnectionChange: this.options.onConnectionChange } : {}),
      echoes: { echoOf: (key, value) => this.own.echoOf(key, value), onEcho: (key, echo) => this.onEcho(key, echo as ExpectedWrite) },
    });
  }

  async close(): Promise<void> {
    await this.watch?.close();
  }

  observed(): ObservedState {
    return this.mirror.observed();
  }

  current(): SyncCurrentRecord | undefined {
    return this.mirror.current();
  }

  extras(): MirrorExtras {
    return this.mirror.extras();
  }

  /**
   * Every change the watch delivers, audit records and naming included, after the mirror took it in.
   * One subscription serves any number of console clients. Returns the unsubscribe function.
   */
  subscribe(listener: (change: MirrorChange) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  /**
   * Writes `ops` through `send` (with `unmirrored`, e.g. the audit record, which the mirror does not
   * keep), then into the mirror. The watch's echoes of exactly these values are known by their bytes:
   * neither parsed nor a reason to reconcile, since the mirror holds them already (or will, once
   * `send` returns: the echo may come first).
   */
  async write(ops: readonly StoreOp[], send: (ops: readonly BatchOp[]) => Promise<unknown>, unmirrored: readonly StoreOp[] = []): Promise<void> {
    const { expected, sending } = this.own.expect([...ops, ...unmirrored]);
    // Never the mirror's: their echo is only told to the subscribers.
    for (const op of unmirrored) expected.get(keyOf(op))!.applied = true;
    try {
      await send(sending);
    } catch (error) {
      this.own.forget(expected);
      throw error;
    }
    // A write whose echo came first is in the mirror already, and so may be what followed it there.
    const unechoed = ops.filter((op) => !expected.get(keyOf(op))!.echoed);
    this.applyLocally(unechoed);
    for (const op of unechoed) expected.get(keyOf(op))!.applied = true;
  }

  /** Records the controller's own successful writes before the watch echoes them. */
  applyLocally(ops: readonly StoreOp[]): void {
    for (const op of ops) this.mirror.ingest('put' in op ? op.put : op.delete, 'put' in op ? op.value : undefined);
  }

  private notify(change: MirrorChange): void {
    for (const subscriber of this.subscribers) subscriber(change);
  }

  /**
   * The watch brought one of the controller's writes back. The mirror takes it in only where it
   * does not hold it: the echo came before the write's reply, or a change etcd made before this
   * write reached the mirror after the reply (a hand edit racing the write) and overwrote it.
   */
  private onEcho(key: string, echo: ExpectedWrite): void {
    this.own.delivered(key, echo);
    if (!echo.applied || echo.overtaken) this.mirror.ingest(key, echo.value);
    this.notify({ key });
  }

  private onEvent(event: WatchEvent<unknown>): void {
    let matters = true;
    if (event.type !== 'resync') this.own.overtake(event.key);
    if (event.type === 'resync') {
      this.own.clear();
      this.mirror.rebuild(event.entries);
    } else matters = this.mirror.ingest(event.key, event.type === 'put' ? event.value : undefined);
    this.notify(event.type === 'resync' ? { resync: true } : { key: event.key });
    if (event.type !== 'resync' && this.isIgnored(event.key)) return;
    if (event.type === 'skipped') this.options.onProblem?.(event.key, event.problem);
    if (matters) this.options.onChange();
  }

  /** Naming changes, audit records and renderers' statuses are not the controller's concern: no reconcile for them. */
  private isIgnored(key: string): boolean {
    return key.startsWith(this.layout.namings()) || key.startsWith(this.layout.syncHistories) || (key.startsWith(this.layout.statuses()) && key.endsWith(`/${RENDERER_STATUS_NAME}`));
  }
}
