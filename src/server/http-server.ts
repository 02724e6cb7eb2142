// The controller's HTTP face: probes, metrics, status (JSON and HTML), the console and the git webhook.
// It knows nothing of etcd or git: everything it shows or triggers is injected, so it can be
// started alone in tests and the controller decides what "ready" and "status" mean.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ControllerStatus } from './controller-status.js';
import type { ControllerMetrics } from './metrics.js';
import { readBody } from './read-body.js';
import { renderStatusPage, renderStatusUnavailablePage } from './status-page.js';
import { MAX_WEBHOOK_BODY_BYTES, verifyWebhook, type WebhookEvent } from './webhook-verification.js';
import { CONTENT_PREFIX, serveContent, type ContentLookup } from './content-route.js';
import type { ConsoleApi } from './console/console-api.js';
import { CONSOLE_DIR, loadConsoleFiles, staticHeaders, type StaticFile } from './console/static-files.js';

import { listenOn } from './listen-address.js';

export { parseListenAddress, HttpServerError, ListenAddressError, type ListenAddress } from './listen-address.js';

export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

export interface HttpServerOptions {
  readonly host: string;
  /** 0 lets the system pick a free port; the returned `url` carries the real one. */
  readonly port: number;
  readonly logger: Logger;
  readonly metrics: ControllerMetrics;
  /** Ready = able to do its job (e.g. etcd reachable and a commit loaded), not merely alive. */
  readonly isReady: () => Readiness | Promise<Readiness>;
  /** May throw (etcd down, not leader yet): the server answers 503 with the message. */
  readonly getStatus: () => ControllerStatus | Promise<ControllerStatus>;
  /** Undefined or empty: every webhook is refused, since an unauthenticated one must never trigger. */
  readonly webhookSecret: string | undefined;
  /**
   * Called once per authenticated webhook, any event (a ping too): a trigger is a hint for a
   * level-triggered loop, so an extra one is harmless. Not awaited: the 202 goes out at once.
   */
  readonly onPush: (event: WebhookEvent) => void | Promise<void>;
  /** Repo files by sha256 for agents (GET /content/<sha256>); absent: 404. */
  readonly getContent?: ContentLookup;
  /** The console's /api/* (besides /api/status); undefined while the controller starts: 503. */
  readonly getConsole?: () => ConsoleApi | undefined;
  readonly now?: () => Date;
}

export interface RunningHttpServer {
  readonly url: string;
  close(): Promise<void>;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<void>;
type Method = 'GET' | 'POST';

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const routes = buildRoutes(options);
  const files = await loadConsoleFiles();
  if (!files.has('/')) options.logger.warn({ event: 'console_missing', dir: CONSOLE_DIR.pathname }, 'the console page is missing from this installation; its API still answers');
  const server = createServer((request, response) => {
    void dispatch(routes, files, options, request, response).catch((error: unknown) => {
      options.logger.error({ event: 'http_error', method: request.method, url: request.url, err: error }, 'request failed');
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      else response.destroy();
    });
  });
  await listenOn(server, options.host, options.port);
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  options.logger.info({ event: 'http_listening', url }, 'http server listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections (Prometheus, browsers) would otherwise hold close() open for seconds.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function buildRoutes(options: HttpServerOptions): ReadonlyMap<string, Partial<Record<Method, Handler>>> {
  const now = options.now ?? (() => new Date());
  return new Map<string, Partial<Record<Method, Handler>>>([
    ['/healthz', { GET: async (_request, response) => sendText(response, 200, 'ok\n') }],
    ['/readyz', { GET: async (_request, response) => serveReadiness(options, response) }],
    ['/metrics', { GET: async (_request, response) => serveMetrics(options.metrics, response) }],
    ['/api/status', { GET: async (_request, response) => serveStatusJson(options, response) }],
    ['/status', { GET: async (_request, response) => serveStatusPage(options, now(), response) }],
    ['/hooks/git', { POST: async (request, response) => serveWebhook(options, request, response) }],
  ]);
}

async function dispatch(
  routes: ReadonlyMap<string, Partial<Record<Method, Handler>>>,
  files: ReadonlyMap<string, StaticFile>,
  options: HttpServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const path = url.pathname;
  const reading = request.method === 'GET' || request.method === 'HEAD';
  if (path.startsWith(CONTENT_PREFIX) && reading) return serveContent(options.getContent, path, response);
  const file = reading ? files.get(path) : undefined;
  if (file) {
    response.writeHead(200, staticHeaders(file));
    return void response.end(file.body);
  }
  if (path.startsWith('/api/') && !routes.has(path) && reading) return serveConsoleApi(options, request, response, url);
  const route = routes.get(path);
  if (route === undefined) return sendJson(response, 404, { error: 'not found', path });
  // HEAD is GET without a body; Node drops the body of a HEAD response itself.
  const method = request.method === 'HEAD' ? 'GET' : request.method;
  const handler = route[method as Method];
  if (handler === undefined) {
    const allowed = Object.keys(route).flatMap((name) => (name === 'GET' ? ['GET', 'HEAD'] : [name]));
    response.setHeader('Allow', allowed.join(', '));
    return sendJson(response, 405, { error: 'method not allowed', method: request.method, allowed });
  }
  return handler(request, response);
}

async function serveConsoleApi(options: HttpServerOptions, request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
  if (!options.getConsole) return sendJson(response, 404, { error: 'not found', path: url.pathname });
  const api = options.getConsole();
  if (!api) return sendJson(response, 503, { error: 'console unavailable', reason: 'the controller is starting' });
  const reply = await api.handle(request, response, url);
  if (reply === 'streaming') return;
  if (reply === undefined) return sendJson(response, 404, { error: 'not found', path: url.pathname });
  sendJson(response, reply.code, reply.body);
}

async function serveReadiness(options: HttpServerOptions, response: ServerResponse): Promise<void> {
  let readiness: Readiness;
  try {
    readiness = await options.isReady();
  } catch (error) {
    readiness = { ready: false, reason: errorMessage(error) };
  }
  if (readiness.ready) return sendText(response, 200, 'ready\n');
  sendText(response, 503, `not ready: ${readiness.reason}\n`);
}

async function serveMetrics(metrics: ControllerMetrics, response: ServerResponse): Promise<void> {
  const text = await metrics.registry.metrics();
  response.writeHead(200, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' });
  response.end(text);
}

async function serveStatusJson(options: HttpServerOptions, response: ServerResponse): Promise<void> {
  let status: ControllerStatus;
  try {
    status = await options.getStatus();
  } catch (error) {
    options.logger.warn({ event: 'status_unavailable', err: error }, 'status unavailable');
    return sendJson(response, 503, { error: 'status unavailable', reason: errorMessage(error) });
  }
  sendJson(response, 200, status);
}

async function serveStatusPage(options: HttpServerOptions, now: Date, response: ServerResponse): Promise<void> {
  let html: string;
  let code = 200;
  try {
    html = renderStatusPage(await options.getStatus(), { now });
  } catch (error) {
    options.logger.warn({ event: 'status_unavailable', err: error }, 'status unavailable');
    html = renderStatusUnavailablePage(errorMessage(error), { now });
    code = 503;
  }
  response.writeHead(code, {
    'Content-Type': 'text/html; charset=utf-8',
    // Defence in depth behind escaping: even an injected tag could not run a script or load anything.
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  });
  response.end(html);
}

async function serveWebhook(options: HttpServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const remoteAddress = request.socket.remoteAddress;
  const read = await readBody(request, MAX_WEBHOOK_BODY_BYTES);
  if (!read.ok) {
    options.logger.warn({ event: 'webhook_rejected', code: 'E_WEBHOOK_TOO_LARGE', remoteAddress, bytes: read.receivedBytes }, 'webhook rejected: body too large');
    options.metrics.countWebhook('unknown', 'rejected');
    // Closing the connection stops the client from pushing the rest of an oversize body at us.
    response.setHeader('Connection', 'close');
    return sendJson(response, 413, { error: 'payload too large', limitBytes: MAX_WEBHOOK_BODY_BYTES });
  }
  const verification = verifyWebhook({ headers: request.headers, body: read.body }, options.webhookSecret);
  if (!verification.ok) {
    options.logger.warn(
      { event: 'webhook_rejected', code: verification.code, reason: verification.reason, provider: verification.provider, remoteAddress },
      'webhook rejected',
    );
    options.metrics.countWebhook(verification.provider ?? 'unknown', 'rejected');
    // The reason goes to the log only: a caller without the secret learns nothing about why.
    return sendJson(response, 401, { error: 'unauthorized' });
  }
  const { ok: _ok, ...event } = verification;
  options.logger.info({ ...event, event: 'webhook_accepted', gitEvent: event.event, remoteAddress }, 'webhook accepted');
  options.metrics.countWebhook(event.provider, 'accepted');
  // Not awaited: the provider times out (GitHub after 10 s) waiting for a reconcile. A failing
  // trigger is logged, not answered with 5xx, which would only make the provider retry; polling covers it.
  const logTriggerFailure = (error: unknown) =>
    options.logger.error({ event: 'webhook_trigger_failed', err: error, provider: event.provider }, 'webhook trigger failed');
  try {
    void Promise.resolve(options.onPush(event)).catch(logTriggerFailure);
  } catch (error) {
    logTriggerFailure(error);
  }
  sendJson(response, 202, { accepted: true, provider: event.provider, event: event.event, ref: event.ref ?? null, after: event.after ?? null });
}

function sendJson(response: ServerResponse, code: number, value: unknown): void {
  response.writeHead(code, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  response.end(`${JSON.stringify(value)}\n`);
}

function sendText(response: ServerResponse, code: number, text: string): void {
  response.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  response.end(text);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
