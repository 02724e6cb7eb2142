// Naming entries that vanished, remembered so a director's file can keep the ones whose host's agent
// is gone (see render-inputs.ts for why). Which entries those are is judged by revision, not by the
// order events arrive in: a lease that runs out deletes agents/<host> and its naming entries in one
// revision, and the view watches agents/ and naming/ separately (a director may read only what it
// renders), so the naming delete may arrive first. An entry went with its agent when the agent's
// record was deleted at or before the entry's revision; one deregistered earlier by a live agent (a
// drain) never comes back.
import type { NamingRecord } from '../store/records.js';

interface VanishedEntry {
  readonly record: NamingRecord;
  readonly removedAt: bigint;
}

export class VanishedEndpoints {
  /** service → `host:port` → the entry and the revision it was deleted at. */
  private readonly entries = new Map<string, Map<string, VanishedEntry>>();
  /** host → the revision its agent record was deleted at, while it stays deleted. */
  private readonly agentGoneAt = new Map<string, bigint>();
  /** Hosts with a live agent record. */
  private readonly agents = new Set<string>();

  /** Remembered even while its agent lives: that agent's delete may be of the same revision and still on its way. */
  remember(service: string, address: string, record: NamingRecord, revision: bigint): void {
    let byAddress = this.entries.get(service);
    if (!byAddress) this.entries.set(service, (byAddress = new Map()));
    byAddress.set(address, { record, removedAt: revision });
  }

  /** The entry is back in naming. */
  forget(service: string, address: string): void {
    this.entries.get(service)?.delete(address);
  }

  agentAlive(host: string): boolean {
    return this.agents.has(host);
  }

  get liveAgents(): ReadonlySet<string> {
    return this.agents;
  }

  /** Its agent is back: it registers what is really healthy, so nothing of the host is kept. */
  agentBack(host: string): void {
    if (this.agents.has(host)) return;
    this.agents.add(host);
    this.agentGoneAt.delete(host);
    this.forgetHost(host);
  }

  agentGone(host: string, revision: bigint): void {
    this.agents.delete(host);
    this.agentGoneAt.set(host, revision);
    // Entries its live agent deregistered earlier (drains) are never served again.
    this.forgetHost(host, (entry) => entry.removedAt < revision);
  }

  /** Nothing of the host is kept (its replicas were released to move). */
  forgetHost(host: string, which: (entry: VanishedEntry) => boolean = () => true): void {
    for (const [service, byAddress] of this.entries) {
      for (const [address, entry] of byAddress) if (entry.record.host === host && which(entry)) byAddress.delete(address);
      if (byAddress.size === 0) this.entries.delete(service);
    }
  }

  /** A service's entries that went with their host's agent, by address. */
  *wentWithAgent(service: string): Generator<[address: string, record: NamingRecord]> {
    for (const [address, entry] of this.entries.get(service) ?? []) if (this.isKept(entry)) yield [address, entry.record];
  }

  get count(): number {
    let count = 0;
    for (const byAddress of this.entries.values()) for (const entry of byAddress.values()) if (this.isKept(entry)) count++;
    return count;
  }

  private isKept(entry: VanishedEntry): boolean {
    const host = entry.record.host;
    const goneAt = this.agentGoneAt.get(host);
    return !this.agents.has(host) && (goneAt === undefined || goneAt <= entry.removedAt);
  }
}
