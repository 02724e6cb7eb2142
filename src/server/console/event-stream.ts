// GET /api/events: server-sent events for the console and for scripts (`curl -N`). One subscription
// to the controller's etcd mirror feeds every client: changes are coalesced for `debounceMs` (etcd
// changes come in bursts — a rollout, an agent reporting twenty jobs), described once, and the same
// bytes go to each client. A client that stops reading is dropped rather than buffered without end;
// it reconnects (EventSource does by itself) and gets a fresh snapshot.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MirrorChange } from '../../controller/fleet-informer.js';
import type { KeyLayout } from '../../store/keys.js';
import { ChangeSet, type ChangeSummary } from './change-set.js';

export interface EventStreamOptions {
  readonly layout: KeyLayout;
  subscribe(listener: (change: MirrorChange) => void): () => void;
  /** The `snapshot` event's data, sent to each client as it connects. */
  snapshot(): unknown;
  /** The `change` event's data for a batch of changes. */
  describe(changes: ChangeSummary): unknown;
  readonly debounceMs?: number;
  readonly heartbeatMs?: number;
  /** A client with more than this much unsent is too slow: dropped. */
  readonly maxBufferedBytes?: number;
}

export const DEFAULT_DEBOUNCE_MS = 150;
export const DEFAULT_HEARTBEAT_MS = 15_000;
const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** How long a browser waits before reconnecting after the stream broke. */
const RECONNECT_MS = 2000;

export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private readonly changes: ChangeSet;
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  private flushTimer: NodeJS.Timeout | undefined;
  private eventId = 0;

  constructor(private readonly options: EventStreamOptions) {
    this.changes = new ChangeSet(options.layout);
    this.unsubscribe = options.subscribe((change) => this.onChange(change));
    this.heartbeat = setInterval(() => this.broadcast(': heartbeat\n\n'), options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /**
   * Takes over the response for as long as the client stays. Last-Event-ID is honoured loosely: a
   * reconnecting client gets a fresh snapshot, which is all it needs to be current again.
   */
  attach(request: IncomingMessage, response: ServerResponse): void {
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      Connection: 'keep-alive',
      // A proxy that buffers would hold every event back until its buffer fills.
      'X-Accel-Buffering': 'no',
    });
    request.socket.setNoDelay(true);
    this.clients.add(response);
    const drop = () => this.clients.delete(response);
    response.once('close', drop);
    response.once('error', drop);
    this.send(response, `retry: ${RECONNECT_MS}\n\n${event('snapshot', ++this.eventId, this.options.snapshot())}`);
  }

  close(): void {
    clearInterval(this.heartbeat);
    clearTimeout(this.flushTimer);
    this.unsubscribe();
    for (const client of this.clients) client.end();
    this.clients.clear();
  }

  private onChange(change: MirrorChange): void {
    this.changes.add(change);
    // Not restarted by each change: under a steady stream of changes clients still hear every debounceMs.
    this.flushTimer ??= setTimeout(() => this.flush(), this.options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
  }

  private flush(): void {
    this.flushTimer = undefined;
    if (this.changes.empty) return;
    const summary = this.changes.take();
    // Nobody listening: nothing to describe (the views are computed on demand, not here).
    if (this.clients.size === 0) return;
    this.broadcast(event('change', ++this.eventId, this.options.describe(summary)));
  }

  private broadcast(text: string): void {
    for (const client of this.clients) this.send(client, text);
  }

  private send(client: ServerResponse, text: string): void {
    if (client.writableLength > (this.options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES)) {
      this.clients.delete(client);
      client.destroy();
      return;
    }
    client.write(text);
  }
}

/** One SSE event; JSON holds no raw newline, so `data` is one line. */
function event(name: string, id: number, data: unknown): string {
  return `id: ${id}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
