// What the debounced renderer needs to know about each kind of file: how to render it, how to read
// an existing one back (the render gate's reference), which groups the store still declares, and
// which records the file is made from (none at all in the store looks like a wipe).
import type { ViewFacts } from './endpoint-view.js';
import { keepalivedInventory, virtualServerKey, zoneInventory, type FileInventory } from './file-inventory.js';
import { renderConfig } from './render-config.js';
import { KEEPALIVED_NOUNS, type GateNouns } from './render-gate.js';
import type { RenderData } from './render-data.js';
import { nextZoneSerial, renderZone } from './render-zone.js';
import { AGENTS_GROUP, renderTargets, targetIp, targetsInventory } from './prometheus-targets.js';
import { nameInZone } from '../model/zone-records.js';

export interface RenderFormat {
  /** `previous` is the file in place ('' when none): a zone's serial must only grow. */
  render(templateText: string, data: RenderData, previous: string): string;
  inventory(text: string): FileInventory;
  /** Groups the data declares: a group removed from the file and not among these may be a commit's doing. */
  declaredGroups(data: RenderData): Set<string>;
  sourceRecords(facts: ViewFacts): number;
  /** The address of a member as the inventory names it. */
  memberAddress(member: string): string;
  readonly nouns: GateNouns;
}

/** keepalived.conf: groups are virtual servers (address port protocol), members real servers. */
export const KEEPALIVED_FORMAT: RenderFormat = {
  render: renderConfig,
  inventory: keepalivedInventory,
  declaredGroups: (data) => new Set(data.services.flatMap((service) => (service.vip ? [virtualServerKey(service.vip.address, service.vip.port, service.vip.protocol)] : []))),
  sourceRecords: (facts) => facts.vipRecords,
  // `ip port`, as real_server lines name them
  memberAddress: (member) => member.split(' ')[0]!,
  nouns: KEEPALIVED_NOUNS,
};

/**
 * A DNS zone file of the Zone `zone` (zones/<zone>): groups are names, members their addresses
 * (`A 10.0.0.1`); the serial is the etcd revision, kept growing past the file in place (nextZoneSerial). The zone declares its published names and its
 * name servers' names.
 */
export function dnsFormat(zone: string): RenderFormat {
  return {
    render: (templateText, data, previous) => renderZone(templateText, data, zone, nextZoneSerial(previous, data.revision)),
    inventory: zoneInventory,
    declaredGroups: (data) => {
      const declared = data.zones?.find((candidate) => candidate.zone === zone);
      return new Set([...(declared?.records.map((record) => record.name) ?? []), ...(declared?.nameServers.flatMap((server) => nameInZone(server.name, zone) ?? []) ?? [])]);
    },
    sourceRecords: (facts) => facts.vipRecords + facts.namingRecords,
    memberAddress: (member) => member.split(' ')[1] ?? member,
    nouns: { groups: 'names', members: 'addresses' },
  };
}

/**
 * A Prometheus file_sd target file: groups are jobs (their live endpoints) and the agents; a job's
 * group is declared while a VIP names it, the agents' always (hosts leave with a commit, rarely en masse).
 * No template: the file is JSON, built in code.
 */
export const PROMETHEUS_FORMAT: RenderFormat = {
  render: (_templateText, data) => renderTargets(data),
  inventory: targetsInventory,
  declaredGroups: (data) => new Set([AGENTS_GROUP, ...data.services.flatMap((service) => (service.vip ? [service.job] : []))]),
  sourceRecords: (facts) => facts.namingRecords + facts.liveAddresses.size,
  memberAddress: targetIp,
  nouns: { groups: 'jobs', members: 'targets' },
};
