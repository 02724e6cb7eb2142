// Building an etcd3 client from `--etcd URL[,URL]`, TLS files and user/password, with fault handling
// tuned for a control plane: fail fast and typed when etcd is down, recover quickly when it is back.
import { readFileSync } from 'node:fs';
import { Etcd3, EtcdPermissionDeniedError } from 'etcd3';
import { hostGate, retryRecoverable } from './etcd-fault-handling.js';
import { redactUrl } from '../util/redact-url.js';
import { answeredButNotEtcd, describeCause, toStoreError } from './map-etcd-error.js';
import { EtcdNotEtcdError, StoreError } from './store-errors.js';

export interface EtcdConnectionOptions {
  readonly endpoints: readonly string[];
  readonly tls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };
  readonly auth?: { readonly user: string; readonly password: string };
  /** How long a request waits for a connection (and an answer): the deadline of every unary call.
   * etcd3 1.1.2 accepts a `dialTimeout` option but never reads it. Default 5000. */
  readonly dialTimeoutMs?: number;
  /** Longest wait between attempts to reach etcd again after a disconnect (gRPC reconnects, watch
   * reconnects and resync reads: see range-watch.ts). Default 2000. */
  readonly reconnectMaxMs?: number;
}

const DEFAULT_PORT = '2379';
const PROBE_KEY = '/';
const DEFAULT_DIAL_TIMEOUT_MS = 5000;
const DEFAULT_RECONNECT_MAX_MS = 2000;

/** What a client was created with, for the parts of the store that wait for etcd themselves. */
export interface ConnectionSettings {
  readonly endpoints: readonly string[];
  readonly reconnectMaxMs: number;
}

const settingsByClient = new WeakMap<Etcd3, ConnectionSettings>();

/** Splits and checks `http://a:2379,https://b:2379`; returns normalized `scheme://host:port` URLs. */
export function parseEtcdEndpoints(text: string): string[] {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.some((part) => part === '')) throw badUrl(text, 'expected URL[,URL], e.g. http://127.0.0.1:2379');
  const endpoints = parts.map(parseEndpoint);
  const secure = endpoints.filter((endpoint) => endpoint.startsWith('https:')).length;
  // etcd3 uses one set of channel credentials for all hosts
  if (secure > 0 && secure < endpoints.length) throw badUrl(text, 'all endpoints must use the same scheme (http or https)');
  return endpoints;
}

function parseEndpoint(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badUrl(text, 'not a URL; expected http(s)://HOST:PORT');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badUrl(text, `scheme must be http or https, not ${url.protocol.slice(0, -1)}`);
  if (url.username || url.password) {
    throw new StoreError('E_ETCD_URL_CREDENTIALS', `bad etcd URL "${redactUrl(text)}": credentials do not belong in the URL (it shows in process lists and logs)`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) throw badUrl(text, 'an etcd endpoint has no path, query or fragment');
  return `${url.protocol}//${url.hostname}:${url.port || DEFAULT_PORT}`;
}

function badUrl(text: string, reason: string): StoreError {
  return new StoreError('E_ETCD_BAD_URL', `bad etcd URL "${redactUrl(text)}": ${reason}`);
}

export function createEtcdClient(options: EtcdConnectionOptions): Etcd3 {
  const endpoints = parseEtcdEndpoints(options.endpoints.join(','));
  const { tls, auth, dialTimeoutMs = DEFAULT_DIAL_TIMEOUT_MS, reconnectMaxMs = DEFAULT_RECONNECT_MAX_MS } = options;
  const secure = endpoints[0]!.startsWith('https:');
  if (tls && (tls.caFile || tls.certFile || tls.keyFile) && !secure) throw badUrl(endpoints.join(','), 'TLS files are given, so the endpoints must use https');
  const client = new Etcd3({
    hosts: endpoints,
    dialTimeout: dialTimeoutMs,
    ...(secure && {
      credentials: {
        // grpc's createSsl takes null for "the system's CAs"; etcd3's type insists on a Buffer
        rootCertificate: (tls?.caFile ? readFileSync(tls.caFile) : null) as Buffer,
        ...(tls?.certFile && { certChain: readFileSync(tls.certFile) }),
        ...(tls?.keyFile && { privateKey: readFileSync(tls.keyFile) }),
      },
    }),
    ...(auth && { auth: { username: auth.user, password: auth.password } }),
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + dialTimeoutMs }),
    grpcOptions: {
      // grpc-js backs off up to 120 s between reconnects by default: far too slow after an etcd restart
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': reconnectMaxMs,
      // notice a dead peer under a long-lived watch stream (etcd's minimum ping interval is 5 s)
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
    },
    faultHandling: {
      host: (host) => hostGate(host, dialTimeoutMs),
      // failover across endpoints: an "unreachable" failure is retried on the next host
      global: retryRecoverable(endpoints.length + 1),
      // No watchBackoff: etcd3's own watch reconnects are not used (range-watch.ts reconnects itself).
    },
  });
  settingsByClient.set(client, { endpoints, reconnectMaxMs });
  return client;
}

/** Creates a client and proves it works with one request, so a bad endpoint, password or CA shows
 * up at start as a typed error (EtcdUnavailableError, EtcdNotEtcdError, EtcdTlsError, EtcdAuthError). */
export async function connectEtcd(options: EtcdConnectionOptions): Promise<Etcd3> {
  const client = createEtcdClient(options);
  try {
    // A read, not maintenance.status(): status answers even without credentials when etcd has auth
    // enabled. "Permission denied" on the probe key still proves the credentials are good.
    await client.get(PROBE_KEY).exec().catch((error: unknown) => {
      if (!(error instanceof EtcdPermissionDeniedError)) throw error;
    });
    return client;
  } catch (error) {
    client.close();
    if (answeredButNotEtcd(error)) throw new EtcdNotEtcdError(describeEndpoints(client), describeCause((error as Error).message), { cause: error });
    throw toStoreError(error, describeEndpoints(client));
  }
}

/** The endpoints a client was created with, for error messages. */
export function describeEndpoints(client: Etcd3): string {
  return settingsByClient.get(client)?.endpoints.join(',') ?? 'etcd';
}

/** The settings of a client made by createEtcdClient; the defaults (and no endpoints) for another. */
export function connectionSettings(client: Etcd3): ConnectionSettings {
  return settingsByClient.get(client) ?? { endpoints: [], reconnectMaxMs: DEFAULT_RECONNECT_MAX_MS };
}
