// Renders a director's keepalived.conf (or any template over the same view) from RenderData.
// Pure: validates every value that reaches the file, then prepares a flat, sorted view so the
// template needs no helpers beyond if/each. Identical input → identical bytes.
import type { LbAlgo, LbKind, Vip } from '../model/types.js';
import type { RenderData, RenderEndpoint, RenderService } from './render-data.js';
import { RenderInputError, type RenderInputProblem } from './render-errors.js';
import { renderTemplate } from './render-template.js';
import { endpointProblems, serverProblems } from './check-endpoint.js';
import { checkInteger, checkIp, checkName, checkOneOf, checkPort, checkToken, checkUrlPath } from './render-values.js';

const LB_ALGOS: readonly LbAlgo[] = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq'];
const LB_KINDS: readonly LbKind[] = ['DR', 'NAT', 'TUN'];
const PROTOCOLS: readonly Vip['protocol'][] = ['TCP', 'UDP'];
const DEFAULT_STATUS_CODE = 200;

export interface RealServerView {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly isHttpCheck: boolean;
  readonly httpPath: string;
  readonly statusCode: number;
  readonly connectTimeoutSeconds: number;
}

export interface VirtualServerView {
  readonly service: string;
  readonly address: string;
  readonly port: number;
  readonly protocol: string;
  readonly lbAlgo: string;
  readonly lbKind: string;
  readonly delayLoopSeconds: number;
  /**
   * The checkers' connect timeout, once per virtual_server (keepalived ≥ 2.0.13 takes it there as
   * the default of every checker): one line per real server fewer, ~20 % of `keepalived -t` at
   * 10,000 real servers. Each real server's view still carries it for templates that want it there.
   */
  readonly connectTimeoutSeconds: number;
  /** 0 renders no persistence_timeout line. */
  readonly persistenceSeconds: number;
  readonly sorryServer: { readonly address: string; readonly port: number } | null;
  readonly realServers: readonly RealServerView[];
  /**
   * keepalived -t rejects (exit 5) a virtual_server whose real servers' weights sum to 0, with or
   * without a sorry_server, so such a block is rendered as a comment only.
   */
  readonly hasRealServers: boolean;
}

export interface KeepalivedView {
  readonly director: string;
  readonly commit: string;
  readonly revision: string;
  readonly virtualServers: readonly VirtualServerView[];
}

export function renderConfig(templateText: string, data: RenderData): string {
  return renderTemplate(templateText, keepalivedView(data));
}

/** Validates (throws RenderInputError listing every problem) and prepares the template's view. */
export function keepalivedView(data: RenderData): KeepalivedView {
  const problems: RenderInputProblem[] = [];
  const fileProblem = (field: string, message: string | undefined): void => {
    if (message !== undefined) problems.push({ service: undefined, field, message });
  };
  fileProblem('director', data.director === undefined ? 'a keepalived config is rendered for one director: none given' : checkName(data.director));
  if (data.commit !== undefined) fileProblem('commit', checkToken(data.commit));
  fileProblem('revision', checkToken(data.revision));

  const director = data.director;
  const directed = data.services.filter(
    (service): service is RenderService & { vip: Vip } => service.vip !== undefined && director !== undefined && service.directors.includes(director),
  );
  const seen = new Map<string, string>();
  for (const service of directed) {
    validateService(service, problems);
    // Two services on one VIP+port+protocol: keepalived accepts it silently and merges nothing sane.
    const key = `${service.vip.address} ${service.vip.port} ${service.vip.protocol}`;
    const other = seen.get(key);
    if (other !== undefined) problems.push({ service: service.name, field: 'vip', message: `${key} is also the VIP of service ${other}` });
    else seen.set(key, service.name);
  }
  if (problems.length > 0) throw new RenderInputError(problems);

  const virtualServers = directed.map(virtualServerView).sort((a, b) => compare(a.service, b.service));
  return { director: director ?? '', commit: data.commit ?? 'unknown', revision: data.revision, virtualServers };
}

function validateService(service: RenderService & { vip: Vip }, problems: RenderInputProblem[]): void {
  const { vip } = service;
  const name = typeof service.name === 'string' ? service.name : String(service.name);
  const add = (field: string, message: string | undefined): void => {
    if (message !== undefined) problems.push({ service: name, field, message });
  };
  add('name', checkName(service.name));
  add('vip.address', checkIp(vip.address));
  add('vip.port', checkPort(vip.port));
  add('vip.protocol', checkOneOf(vip.protocol, PROTOCOLS));
  add('vip.lbAlgo', checkOneOf(vip.lbAlgo, LB_ALGOS));
  add('vip.lbKind', checkOneOf(vip.lbKind, LB_KINDS));
  add('vip.persistenceSeconds', checkInteger(vip.persistenceSeconds, 0, 31_536_000));
  add('vip.check.delayLoopSeconds', checkInteger(vip.check.delayLoopSeconds, 1, 86_400));
  add('vip.check.connectTimeoutSeconds', checkInteger(vip.check.connectTimeoutSeconds, 1, 3_600));
  if (vip.check.http !== undefined) {
    add('vip.check.http.path', checkUrlPath(vip.check.http.path));
    if (vip.check.http.statusCode !== undefined) add('vip.check.http.statusCode', checkInteger(vip.check.http.statusCode, 100, 599));
  }
  if (vip.sorryServer !== undefined) {
    for (const { field, message } of serverProblems(vip, vip.sorryServer.address, vip.sorryServer.port)) add(`vip.sorryServer.${field}`, message);
  }
  service.endpoints.forEach((endpoint, index) => {
    for (const { field, message } of endpointProblems(vip, endpoint)) add(`endpoints[${index}].${field}`, message);
  });
}

function virtualServerView(service: RenderService & { vip: Vip }): VirtualServerView {
  const { vip } = service;
  const http = vip.check.http;
  const realServers = uniqueEndpoints(service.endpoints).map(
    (endpoint): RealServerView => ({
      address: endpoint.ip,
      port: endpoint.port,
      weight: endpoint.weight,
      isHttpCheck: http !== undefined,
      httpPath: http?.path ?? '',
      statusCode: http?.statusCode ?? DEFAULT_STATUS_CODE,
      connectTimeoutSeconds: vip.check.connectTimeoutSeconds,
    }),
  );
  return {
    service: service.name,
    address: vip.address,
    port: vip.port,
    protocol: vip.protocol,
    lbAlgo: vip.lbAlgo,
    lbKind: vip.lbKind,
    delayLoopSeconds: vip.check.delayLoopSeconds,
    connectTimeoutSeconds: vip.check.connectTimeoutSeconds,
    persistenceSeconds: vip.persistenceSeconds,
    sorryServer: vip.sorryServer === undefined ? null : { address: vip.sorryServer.address, port: vip.sorryServer.port },
    realServers,
    hasRealServers: realServers.some((server) => server.weight > 0),
  };
}

/**
 * Sorted by ip then port; one entry per ip:port (keepalived -t rejects a duplicated real_server).
 * Two registrations of one ip:port (a host that changed names, a stale entry) keep the highest
 * weight, which does not depend on their order.
 */
function uniqueEndpoints(endpoints: readonly RenderEndpoint[]): RenderEndpoint[] {
  const byAddress = new Map<string, RenderEndpoint>();
  for (const endpoint of endpoints) {
    const key = `${endpoint.ip} ${endpoint.port}`;
    const kept = byAddress.get(key);
    if (kept === undefined || endpoint.weight > kept.weight) byAddress.set(key, endpoint);
  }
  return [...byAddress.values()].sort((a, b) => compare(a.ip, b.ip) || a.port - b.port);
}

/** Code-unit order, not locale order: the same on every machine. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
