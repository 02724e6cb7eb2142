// Renders a config from an EndpointView whenever it changes, debounced by quiescence so a rolling
// deploy (a burst of naming changes) costs one render and one reload, not a hundred: a render runs
// `minWaitMs` after the last change, but never later than `maxWaitMs` after the first of the burst.
// The wait is also the margin the render gate judges by: the view has one watch per range, so one
// revision's deletes (a lease running out: agents/<host> and its naming entries; a wipe: everything)
// arrive on separate streams, and a render between them would take a lost host's endpoint for one its
// live agent deregistered. A rollout's batches come 100-150 ms apart, so 200 ms also makes a rollout
// one render, not one per batch.
//
// Every render passes the render gate (render-gate.ts) against the file on disk before it may
// replace it: an unknown director is an error, an etcd that looks wiped or reset and a mass removal
// nobody committed are HELD — the file stays, and the hold is loud (an error log line when it starts
// or its reason changes, status/<director>/_render with held: true, the ygg_render_held metrics).
// A held render is retried on every change of the view and every `heldRetryMs`, so it applies by
// itself once the condition clears (etcd back, records restored, the controller's commit in).
// Records that cannot be rendered (bad values in naming/) are left out, counted and reported.
import { readFile } from 'node:fs/promises';
import type { BatchOp, EtcdStateStore } from '../store/state-store.js';
import { usableEndpoints } from './check-endpoint.js';
import type { RenderSource } from './endpoint-view.js';
import type { RenderData, SkippedInput } from './render-data.js';
import { KEEPALIVED_FORMAT, type RenderFormat } from './render-formats.js';
import { checkDirector, judgeRender, type GateVerdict } from './render-gate.js';
import { RenderReloadError } from './render-errors.js';
import { InventoryMemo } from './inventory-memo.js';
import { initialStatus, statusFailed, statusHeld, statusWritten, type RenderStatusRecord } from './render-status.js';
import { writeCheckedFile, type WriteCheckedOptions } from './write-checked-file.js';

export type { WriteCheckedOptions } from './write-checked-file.js';
export type { RenderStatusRecord } from './render-status.js';

export interface RenderLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface DebouncedRendererOptions {
  readonly view: RenderSource;
  /** The director the config is for (keepalived); undefined for fleet-wide files (DNS). */
  readonly director?: string;
  readonly templateText: string;
  /** The kind of file; default keepalived.conf. */
  readonly format?: RenderFormat;
  readonly target: string;
  /** Let a render remove most of the file at once (the operator's explicit decision). */
  readonly allowMassRemoval?: boolean;
  /** A render removing more than this share of the file's real servers at once is held; default 50. */
  readonly maxRemovedPercent?: number;
  /** While held, render again this often even without a change (e.g. the file was fixed by hand). */
  readonly heldRetryMs?: number;
  readonly write?: WriteCheckedOptions;
  readonly minWaitMs?: number;
  readonly maxWaitMs?: number;
  readonly logger?: RenderLogger;
  /** Where to publish RenderStatusRecord after every attempt (best effort). */
  readonly status?: { readonly store: EtcdStateStore; readonly key: string };
  readonly now?: () => Date;
}

export const DEFAULT_MIN_WAIT_MS = 200;
export const DEFAULT_MAX_WAIT_MS = 2000;
export const DEFAULT_HELD_RETRY_MS = 5000;

const SILENT: RenderLogger = { info: () => {}, warn: () => {}, error: () => {} };

export class DebouncedRenderer {
  private readonly minWaitMs: number;
  private readonly maxWaitMs: number;
  private readonly log: RenderLogger;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private firstChangeAt: number | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  private stopped = false;
  private state: RenderStatusRecord;
  /** Rule 1e of the render gate: held as a reset, and nothing written since. */
  private recovering = false;
  /** The skipped inputs last logged, so a bad entry is logged when it appears, not on every render. */
  private loggedSkipped = '';
  /** The inventories of the file in place and of the last render, for the gate. */
  private readonly inventories: InventoryMemo;
  /** The status last written to etcd, without its clock fields: a held renderer retries every few seconds, and says so once. */
  private publishedStatus = '';
  private readonly onChange = () => this.schedule();

  constructor(private readonly options: DebouncedRendererOptions) {
    this.minWaitMs = options.minWaitMs ?? DEFAULT_MIN_WAIT_MS;
    this.maxWaitMs = Math.max(options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS, this.minWaitMs);
    this.log = options.logger ?? SILENT;
    this.now = options.now ?? (() => new Date());
    this.state = initialStatus(options.target, this.now().toISOString());
    const format = options.format ?? KEEPALIVED_FORMAT;
    this.inventories = new InventoryMemo((text) => format.inventory(text));
  }

  get status(): RenderStatusRecord {
    return this.state;
  }

  /** Renders once now, then follows the view's changes. */
  async start(): Promise<void> {
    this.options.view.on('changed', this.onChange);
    await this.renderNow();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.options.view.off('changed', this.onChange);
    clearTimeout(this.timer);
    clearTimeout(this.retryTimer);
    this.timer = undefined;
    await this.running;
  }

  /** One render of the view as it is, waiting for any render in flight first. */
  async renderNow(): Promise<RenderStatusRecord> {
    while (this.running) await this.running;
    this.running = this.renderOnce().finally(() => (this.running = undefined));
    await this.running;
    return this.state;
  }

  private schedule(): void {
    if (this.stopped) return;
    const now = Date.now();
    this.firstChangeAt ??= now;
    if (this.running) {
      this.dirty = true;
      return;
    }
    clearTimeout(this.timer);
    const dueAt = Math.min(now + this.minWaitMs, this.firstChangeAt + this.maxWaitMs);
    this.timer = setTimeout(() => this.fire(), Math.max(0, dueAt - now));
  }

  private fire(): void {
    this.timer = undefined;
    this.firstChangeAt = undefined;
    this.running = this.renderOnce().finally(() => {
      this.running = undefined;
      // Changes that arrived during the render start a new burst.
      if (this.dirty) {
        this.dirty = false;
        this.schedule();
      }
    });
  }

  private async renderOnce(): Promise<void> {
    const { view, director, templateText, target } = this.options;
    const format = this.options.format ?? KEEPALIVED_FORMAT;
    const data = usableEndpoints(view.current(director));
    const skipped = data.skipped ?? [];
    const at = this.now().toISOString();
    this.logSkipped(skipped);
    try {
      if (director !== undefined && checkDirector(director, view.facts().directors) === 'store-empty') {
        this.recovering = true;
        this.hold('etcd holds no VIP record and no host record (wiped, reset or not populated yet)', data, at);
      } else {
        const existing = await readExisting(this.options.target);
        const content = format.render(templateText, data, existing);
        const verdict = this.judge(format, data, existing, content);
        if (verdict.write) await this.write(content, data, at);
        else {
          this.recovering ||= verdict.reset;
          this.hold(verdict.reason, data, at);
        }
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const code = (error as { code?: string }).code;
      this.state = statusFailed(this.state, at, { message, ...(code !== undefined && { code }) }, skipped);
      // A failed reload leaves the new file in place; anything else leaves the old one.
      const outcome = error instanceof RenderReloadError ? 'the new file is in place but was not reloaded' : 'the old file stays';
      this.log.error({ target, revision: data.revision, code }, `render failed, ${outcome}: ${message}`);
    }
    clearTimeout(this.retryTimer);
    if (this.state.held && !this.stopped) this.retryTimer = setTimeout(() => this.schedule(), this.options.heldRetryMs ?? DEFAULT_HELD_RETRY_MS).unref();
    await this.publish();
  }

  /** Whether `content` may replace the file on disk (see render-gate.ts). */
  private judge(format: RenderFormat, data: RenderData, existing: string, content: string): GateVerdict {
    const facts = this.options.view.facts();
    return judgeRender({
      reference: this.inventories.inventory(existing),
      proposed: this.inventories.inventory(content),
      declared: format.declaredGroups(data),
      store: { connected: facts.connected, revision: facts.revision, ...(facts.syncCommit !== undefined && { syncCommit: facts.syncCommit }), sourceRecords: format.sourceRecords(facts) },
      recovering: this.recovering,
      deregistered: (member) => facts.liveAddresses.has(format.memberAddress(member)),
      nouns: format.nouns,
      ...(this.options.allowMassRemoval !== undefined && { allowMassRemoval: this.options.allowMassRemoval }),
      ...(this.options.maxRemovedPercent !== undefined && { maxRemovedPercent: this.options.maxRemovedPercent }),
    });
  }

  private async write(content: string, data: RenderData, at: string): Promise<void> {
    const { target } = this.options;
    const { changed, checksum } = await writeCheckedFile(target, content, this.options.write ?? {});
    this.recovering = false;
    if (this.state.held) this.log.info({ target, revision: data.revision }, 'the render gate no longer holds the file');
    this.state = statusWritten(this.state, at, { revision: data.revision, commit: data.commit, checksum, changed, skipped: data.skipped ?? [] });
    if (changed) this.log.info({ target, revision: data.revision, commit: data.commit, checksum, services: data.services.length }, 'rendered a new config');
  }

  /** Loud: an error line when a hold starts or its reason changes; the status and metrics always. */
  private hold(reason: string, data: RenderData, at: string): void {
    const { target } = this.options;
    if (this.state.heldReason !== reason) this.log.error({ target, revision: data.revision, commit: data.commit, event: 'render_held' }, `RENDER HELD, ${target} stays as it is: ${reason}`);
    this.state = statusHeld(this.state, at, reason, data.skipped ?? []);
  }

  private logSkipped(skipped: readonly SkippedInput[]): void {
    const text = JSON.stringify(skipped);
    if (text === this.loggedSkipped) return;
    this.loggedSkipped = text;
    if (skipped.length > 0) this.log.warn({ target: this.options.target, skipped: skipped.slice(0, 20), count: skipped.length, event: 'render_skipped' }, `left ${skipped.length} invalid record(s) out of the render`);
  }

  private async publish(): Promise<void> {
    const status = this.options.status;
    if (!status || !this.options.view.facts().connected) return;
    const { updatedAt: _at, renders: _renders, ...meaning } = this.state;
    const text = JSON.stringify(meaning);
    if (text === this.publishedStatus) return;
    const op: BatchOp = { put: status.key, value: this.state };
    try {
      await status.store.applyBatch([op]);
      this.publishedStatus = text;
    } catch (error) {
      this.log.warn({ key: status.key, error: String(error) }, 'could not write render status');
    }
  }
}

/** The file in place, or '' when there is none yet (nothing to lose). */
async function readExisting(target: string): Promise<string> {
  try {
    return await readFile(target, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}
