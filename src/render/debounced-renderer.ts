// Renders a config from an EndpointView whenever it changes, debounced by quiescence so a rolling
// deploy (a burst of naming changes) costs one render and one reload, not a hundred: a render runs
// `minWaitMs` after the last change, but never later than `maxWaitMs` after the first of the burst.
//
// Empty-set guard: a VIP that had endpoints in the last good render and has none now is believable
// only while the view is connected and was not just rebuilt from an empty prefix. Otherwise we are
// looking at an etcd outage or reset, not at a service that died: keep the last file (fail static)
// and say so loudly. A VIP whose endpoints went away for real, seen live, renders with none.
import type { BatchOp, EtcdStateStore } from '../store/state-store.js';
import type { RenderSource } from './endpoint-view.js';
import type { RenderData } from './render-data.js';
import { renderConfig } from './render-config.js';
import { RenderReloadError } from './render-errors.js';
import { writeCheckedFile, type WriteCheckedOptions } from './write-checked-file.js';

export type { WriteCheckedOptions } from './write-checked-file.js';

export interface RenderLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** status/<director>/render-<name>: what the renderer last did, for operators and `ygg status`. */
export interface RenderStatusRecord {
  readonly target: string;
  /** The etcd revision the file in place was rendered from. */
  readonly lastRenderRevision?: string;
  readonly lastRenderAt?: string;
  /** sha256 of the file in place. */
  readonly checksum?: string;
  readonly lastError?: string;
  readonly lastErrorAt?: string;
  /** Set while the empty-set guard holds the last file. */
  readonly held?: string;
  readonly renders: number;
  readonly writes: number;
  readonly updatedAt: string;
}

export interface DebouncedRendererOptions {
  readonly view: RenderSource;
  /** The director the config is for (keepalived); undefined for fleet-wide files (DNS). */
  readonly director?: string;
  readonly templateText: string;
  /** Turns the template and data into the file's text; default renderConfig (keepalived). */
  readonly render?: (templateText: string, data: RenderData) => string;
  readonly target: string;
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

const SILENT: RenderLogger = { info: () => {}, warn: () => {}, error: () => {} };

export class DebouncedRenderer {
  private readonly minWaitMs: number;
  private readonly maxWaitMs: number;
  private readonly log: RenderLogger;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private firstChangeAt: number | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  private stopped = false;
  /** Endpoint counts per service in the last render that reached the file. */
  private lastGood: Map<string, number> | undefined;
  private state: RenderStatusRecord;
  private readonly onChange = () => this.schedule();

  constructor(private readonly options: DebouncedRendererOptions) {
    this.minWaitMs = options.minWaitMs ?? DEFAULT_MIN_WAIT_MS;
    this.maxWaitMs = Math.max(options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS, this.minWaitMs);
    this.log = options.logger ?? SILENT;
    this.now = options.now ?? (() => new Date());
    this.state = { target: options.target, renders: 0, writes: 0, updatedAt: this.now().toISOString() };
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
    const data = view.current(director);
    const attemptAt = this.now().toISOString();
    const lost = this.lostServices(data);
    if (lost.length > 0 && (!view.connected || view.resyncedEmpty)) {
      const why = view.connected ? 'etcd was reset (resynced to an empty prefix)' : 'etcd is unreachable';
      const held = `kept the last ${target}: ${lost.join(', ')} would lose every endpoint, and ${why}`;
      this.log.error({ target, services: lost, revision: data.revision, connected: view.connected }, `EMPTY-SET GUARD: ${held}`);
      this.state = { ...this.state, held, updatedAt: attemptAt };
      await this.publish();
      return;
    }
    try {
      const content = (this.options.render ?? renderConfig)(templateText, data);
      const { changed, checksum } = await writeCheckedFile(target, content, this.options.write ?? {});
      this.lastGood = new Map(data.services.map((service) => [service.name, service.endpoints.length]));
      const { held: _held, lastError: _lastError, lastErrorAt: _lastErrorAt, ...rest } = this.state;
      this.state = {
        ...rest,
        lastRenderRevision: data.revision,
        lastRenderAt: attemptAt,
        checksum,
        renders: this.state.renders + 1,
        writes: this.state.writes + (changed ? 1 : 0),
        updatedAt: attemptAt,
      };
      if (changed) this.log.info({ target, revision: data.revision, checksum, services: data.services.length }, 'rendered a new config');
    } catch (error) {
      // The file is in place (and is the last good render); only the reload failed.
      if (error instanceof RenderReloadError) this.lastGood = new Map(data.services.map((service) => [service.name, service.endpoints.length]));
      const message = error instanceof Error ? error.message : String(error);
      this.state = { ...this.state, lastError: message, lastErrorAt: attemptAt, renders: this.state.renders + 1, updatedAt: attemptAt };
      this.log.error({ target, revision: data.revision, code: (error as { code?: string }).code }, `render failed, the old file stays: ${message}`);
    }
    await this.publish();
  }

  /** Services that had endpoints in the last good render and have none (or are gone) now. */
  private lostServices(data: RenderData): string[] {
    if (!this.lastGood) return [];
    const now = new Map(data.services.map((service) => [service.name, service.endpoints.length]));
    return [...this.lastGood].filter(([name, count]) => count > 0 && !(now.get(name)! > 0)).map(([name]) => name);
  }

  private async publish(): Promise<void> {
    const status = this.options.status;
    if (!status || !this.options.view.connected) return;
    const op: BatchOp = { put: status.key, value: this.state };
    try {
      await status.store.applyBatch([op]);
    } catch (error) {
      this.log.warn({ key: status.key, error: String(error) }, 'could not write render status');
    }
  }
}
