// Records for render tests: a VIP on port 80 (DR: real servers listen on the VIP's port) and endpoints.
import type { NamingRecord, SyncCurrentRecord, VipRecord, ZoneRecord } from '../../src/store/records.js';

export function vipRecord(service: string, address: string, directors: string[], commit = 'c1'): VipRecord {
  return {
    service,
    job: service,
    port: 'http',
    vip: { address, port: 80, protocol: 'TCP', lbAlgo: 'wrr', lbKind: 'DR', persistenceSeconds: 0, check: { tcp: {}, connectTimeoutSeconds: 3, delayLoopSeconds: 5 } },
    directors,
    commit,
  };
}

export function namingRecord(host: string, ip: string, port = 80, job = 'web'): NamingRecord {
  return { ip, port, weight: 1, host, job, specHash: `spec-${host}` };
}

export function syncCurrentRecord(sha: string): SyncCurrentRecord {
  return { commit: { sha, author: 'ops', email: 'ops@example.net', message: `commit ${sha}`, timestamp: 1_700_000_000 }, result: 'Synced', time: '2026-01-01T00:00:00.000Z' };
}

/** hosts/<host>, as the controller writes it from the Host document. */
export function hostRecord(name: string, ip: string): { name: string; ip: string; labels: Record<string, string>; state: 'online'; commit: string } {
  return { name, ip, labels: {}, state: 'online', commit: 'c1' };
}

/** zones/<origin>, as the controller publishes a Zone: one name server inside the zone, each service under its own name. */
export function zoneRecord(zone: string, services: readonly string[], commit = 'c1'): ZoneRecord {
  return {
    zone,
    ttlSeconds: 60,
    soa: { hostmaster: `hostmaster.${zone}`, refreshSeconds: 3600, retrySeconds: 600, expireSeconds: 604800, negativeTtlSeconds: 60 },
    nameServers: [{ name: `ns1.${zone}`, addresses: ['192.0.2.53'] }],
    records: [...services].sort().map((service) => ({ name: service, service })),
    commit,
  };
}
