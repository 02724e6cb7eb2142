// Renders a DNS zone file (templates/dns-zone.hbs) of one Zone the commit in force declares
// (zones/<origin>): SOA and NS from the zone, the name servers' addresses inside the zone, and each
// published name with its service's VIP where it has one, else each live endpoint's ip.
// Pure, validated like renderConfig; identical input → identical bytes.
import { nameInZone, type ResolvedZone } from '../model/zone-records.js';
import type { RenderData } from './render-data.js';
import { RenderInputError, UnknownZoneError, type RenderInputProblem } from './render-errors.js';
import { compare } from './render-config.js';
import { renderTemplate } from './render-template.js';
import { checkInteger, checkIp, checkName, checkToken, ipFamily } from './render-values.js';

export interface ZoneRecordView {
  /** Relative to the zone's $ORIGIN; `@` for the apex. */
  readonly name: string;
  readonly type: 'A' | 'AAAA';
  readonly address: string;
}

export interface ZoneView {
  readonly zone: string;
  readonly serial: number;
  /** The SOA MNAME: the first name server. */
  readonly primary: string;
  readonly hostmaster: string;
  readonly ttlSeconds: number;
  readonly refreshSeconds: number;
  readonly retrySeconds: number;
  readonly expireSeconds: number;
  readonly negativeTtlSeconds: number;
  readonly nameServers: readonly string[];
  readonly commit: string;
  readonly revision: string;
  readonly records: readonly ZoneRecordView[];
  /** Published names with nothing to answer (no VIP, no live endpoint): a comment in the file. */
  readonly unpublished: readonly { readonly name: string; readonly service: string }[];
}

const MAX_TTL_SECONDS = 2_147_483_647;
const SERIAL_MODULUS = 4_294_967_296;
const PREVIOUS_SERIAL = /^\s*(\d+) ; serial$/m;
const PREVIOUS_REVISION = /, etcd revision (\S+)\.$/m;

/**
 * The serial for a zone rendered at etcd `revision`, given the file in place. Secondaries transfer a
 * zone only when its serial grows, so it must never go back: after an etcd restore or a new cluster
 * the revision restarts lower, and the serial then goes on from the file's. A re-render of the same
 * revision keeps the file's serial.
 */
export function nextZoneSerial(previous: string, revision: string): number {
  const fromRevision = Number(revision) % SERIAL_MODULUS;
  const previousSerial = Number(PREVIOUS_SERIAL.exec(previous)?.[1] ?? -1);
  if (!(previousSerial >= fromRevision)) return fromRevision;
  if (PREVIOUS_REVISION.exec(previous)?.[1] === revision) return previousSerial;
  return (previousSerial + 1) % SERIAL_MODULUS;
}

/** The zone `origin` from the data's zones; an origin etcd does not hold is an UnknownZoneError. */
export function renderZone(templateText: string, data: RenderData, origin: string, serial: number): string {
  const zone = data.zones?.find((candidate) => candidate.zone === origin);
  if (!zone) throw new UnknownZoneError(origin, (data.zones ?? []).map((candidate) => candidate.zone));
  return renderTemplate(templateText, zoneView(data, zone, serial));
}

export function zoneView(data: RenderData, zone: ResolvedZone, serial: number): ZoneView {
  const problems: RenderInputProblem[] = [];
  const add = (service: string | undefined, field: string, message: string | undefined): void => {
    if (message !== undefined) problems.push({ service, field, message });
  };
  // '@' is the apex; any other relative name must make a name inside the zone.
  const relative = (name: string) => (name === '@' ? undefined : checkName(`${name}.${zone.zone}`));
  add(undefined, 'zone', checkName(zone.zone));
  add(undefined, 'serial', checkInteger(serial, 0, 4_294_967_295));
  add(undefined, 'soa.hostmaster', checkName(zone.soa.hostmaster));
  add(undefined, 'ttlSeconds', checkInteger(zone.ttlSeconds, 0, MAX_TTL_SECONDS));
  for (const field of ['refreshSeconds', 'retrySeconds', 'expireSeconds', 'negativeTtlSeconds'] as const) add(undefined, `soa.${field}`, checkInteger(zone.soa[field], 0, MAX_TTL_SECONDS));
  if (data.commit !== undefined) add(undefined, 'commit', checkToken(data.commit));
  add(undefined, 'revision', checkToken(data.revision));
  if (zone.nameServers.length === 0) add(undefined, 'nameServers', 'a zone needs at least one name server');

  const records: ZoneRecordView[] = [];
  const unique = new Set<string>();
  const addRecord = (owner: string | undefined, field: string, name: string, ip: string) => {
    const family = ipFamily(ip);
    add(owner, field, checkIp(ip));
    if (family === undefined || unique.has(`${name} ${ip}`)) return;
    unique.add(`${name} ${ip}`);
    records.push({ name, type: family === 4 ? 'A' : 'AAAA', address: ip });
  };
  zone.nameServers.forEach((server, index) => {
    add(undefined, `nameServers[${index}].name`, checkName(server.name));
    const inside = nameInZone(server.name, zone.zone);
    // Out-of-zone data is not the zone's to publish (a server would ignore it).
    if (inside !== undefined) server.addresses.forEach((ip, position) => addRecord(undefined, `nameServers[${index}].addresses[${position}]`, inside, ip));
  });

  const services = new Map(data.services.map((service) => [service.name, service]));
  const unpublished: { name: string; service: string }[] = [];
  for (const entry of zone.records) {
    add(entry.service, 'name', relative(entry.name));
    add(entry.service, 'service', checkName(entry.service));
    const service = services.get(entry.service);
    // A VIP is the service's one address; without one, DNS round-robins over the live endpoints.
    const addresses = service?.vip !== undefined ? [{ field: 'vip.address', ip: service.vip.address }] : (service?.endpoints ?? []).map((endpoint, index) => ({ field: `endpoints[${index}].ip`, ip: endpoint.ip }));
    if (addresses.length === 0) unpublished.push(entry);
    for (const { field, ip } of addresses) addRecord(entry.service, field, entry.name, ip);
  }
  if (problems.length > 0) throw new RenderInputError(problems);

  records.sort((a, b) => compare(a.name, b.name) || compare(a.type, b.type) || compare(a.address, b.address));
  const { hostmaster, refreshSeconds, retrySeconds, expireSeconds, negativeTtlSeconds } = zone.soa;
  return {
    zone: zone.zone,
    serial,
    primary: zone.nameServers[0]?.name ?? '',
    hostmaster,
    ttlSeconds: zone.ttlSeconds,
    refreshSeconds,
    retrySeconds,
    expireSeconds,
    negativeTtlSeconds,
    nameServers: zone.nameServers.map((server) => server.name),
    commit: data.commit ?? 'unknown',
    revision: data.revision,
    records,
    unpublished,
  };
}
