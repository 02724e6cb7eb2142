// Renders a DNS zone file (templates/dns-zone.hbs) naming every service: its VIP where it has one,
// else each live endpoint's ip. Pure, validated like renderConfig; identical input → identical bytes.
import type { RenderData } from './render-data.js';
import { RenderInputError, type RenderInputProblem } from './render-errors.js';
import { compare } from './render-config.js';
import { renderTemplate } from './render-template.js';
import { checkInteger, checkIp, checkName, checkToken, ipFamily } from './render-values.js';

export interface ZoneOptions {
  /** The zone's origin without the trailing dot, e.g. `svc.example.net`. */
  readonly zone: string;
  /** SOA serial; the caller keeps it increasing (e.g. the etcd revision, or a date-based counter). */
  readonly serial: number;
  /** Fully qualified, without the trailing dot. Default `ns1.<zone>` (then it needs an A record). */
  readonly nameServer?: string;
  /** The SOA RNAME, fully qualified, without the trailing dot. Default `hostmaster.<zone>`. */
  readonly hostmaster?: string;
  readonly ttlSeconds?: number;
}

export interface ZoneRecordView {
  /** Relative to the zone's $ORIGIN. */
  readonly name: string;
  readonly type: 'A' | 'AAAA';
  readonly address: string;
}

export interface ZoneView {
  readonly zone: string;
  readonly serial: number;
  readonly nameServer: string;
  readonly hostmaster: string;
  readonly ttlSeconds: number;
  readonly commit: string;
  readonly revision: string;
  readonly records: readonly ZoneRecordView[];
}

const DEFAULT_TTL_SECONDS = 60;

export function renderZone(templateText: string, data: RenderData, options: ZoneOptions): string {
  return renderTemplate(templateText, zoneView(data, options));
}

export function zoneView(data: RenderData, options: ZoneOptions): ZoneView {
  const problems: RenderInputProblem[] = [];
  const add = (service: string | undefined, field: string, message: string | undefined): void => {
    if (message !== undefined) problems.push({ service, field, message });
  };
  const nameServer = options.nameServer ?? `ns1.${options.zone}`;
  const hostmaster = options.hostmaster ?? `hostmaster.${options.zone}`;
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  add(undefined, 'zone', checkName(options.zone));
  add(undefined, 'serial', checkInteger(options.serial, 0, 4_294_967_295));
  add(undefined, 'nameServer', checkName(nameServer));
  add(undefined, 'hostmaster', checkName(hostmaster));
  add(undefined, 'ttlSeconds', checkInteger(ttlSeconds, 0, 2_147_483_647));
  if (data.commit !== undefined) add(undefined, 'commit', checkToken(data.commit));
  add(undefined, 'revision', checkToken(data.revision));

  const records: ZoneRecordView[] = [];
  for (const service of data.services) {
    const name = String(service.name);
    add(name, 'name', checkName(service.name));
    // A VIP is the service's one address; without one, DNS round-robins over the live endpoints.
    const addresses = service.vip !== undefined ? [{ field: 'vip.address', ip: service.vip.address }] : service.endpoints.map((endpoint, index) => ({ field: `endpoints[${index}].ip`, ip: endpoint.ip }));
    const unique = new Set<string>();
    for (const { field, ip } of addresses) {
      const family = ipFamily(ip);
      add(name, field, checkIp(ip));
      if (family === undefined || unique.has(ip)) continue;
      unique.add(ip);
      records.push({ name, type: family === 4 ? 'A' : 'AAAA', address: ip });
    }
  }
  if (problems.length > 0) throw new RenderInputError(problems);

  records.sort((a, b) => compare(a.name, b.name) || compare(a.type, b.type) || compare(a.address, b.address));
  return { zone: options.zone, serial: options.serial, nameServer, hostmaster, ttlSeconds, commit: data.commit ?? 'unknown', revision: data.revision, records };
}
