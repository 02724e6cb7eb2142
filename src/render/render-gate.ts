// Decides whether a rendered file may replace the one on disk. The file on disk is the reference
// (read back after every restart, never remembered in memory): a render is compared with it, group
// by group (keepalived: virtual servers; DNS: names) and member by member (real servers; addresses).
//
// THE RULE. A render is HELD (the file stays as it is, loudly) when:
//
// 1. Reset: it would remove anything (a group or a member) while the store does not look like the
//    one the file was rendered from —
//      a. the file names a commit and sync/current is missing (a wipe, a fresh etcd);
//      b. the file serves something and the store holds none of the records it is made from
//         (no VIP record at all), unless sync/current names another commit than the file (a
//         commit that removed every Service);
//      c. the store's revision is below the revision in the file's header (etcd restored from a
//         backup or replaced: the store is older than what the file shows);
//      d. the view is cut off from etcd (what it holds may be stale);
//      e. the renderer is recovering: a render was held for a, b or c and since then no render was
//         written. After a wipe, agents re-register host by host and the controller rewrites VIPs
//         in chunks: a partial restore looks just like a job that died, so nothing is removed
//         until the store shows everything in the file again, or the controller applies a commit
//         other than the file's (a new truth to render from).
//    A render that removes nothing is written even then: it cannot drop traffic, and it makes the
//    store the file's new reference (which ends c and e). Only the store recovering ends a, b, d.
//    e lives in memory: a restart in the middle of a restore judges by a-d and rule 2 only.
//
// 2. Mass removal (unless the operator allows it, `--allow-mass-removal`): it would
//      a. leave no group at all while the file has some, or
//      b. remove more than `maxRemovedPercent` (default 50) of the file's real servers at once,
//    counting only removals the commit in force does not explain. A group is explained when it is
//    no longer declared (its VIP record is gone, or no longer lists this director) AND sync/current
//    names a commit other than the file's header: the controller applied a commit since the file
//    was written, and that commit removed it. The share in b is taken out of the real servers of
//    the unexplained groups (those of VIPs a commit removed are not at stake). A real server of a
//    host whose agent is alive is explained too: that agent deregistered it on purpose (a drain, a
//    failing health check, a commit scaling the job down), the fleet's own reason.
//
// Before the rule, the director must be known (checkDirector): an unknown one is an error, and an
// etcd that knows no director at all (no VIP, no host) is held like a reset.
//
// Why losing members one by one is the fleet's reason and losing most at once is not: a job that
// dies host by host, or whose agents' leases expire one by one, drains the file step by step, each
// step a small part of the file. An etcd wipe, a lost prefix or a partition expiring many leases
// together removes most of the file in one step. Holding costs little: keepalived health-checks
// every real server itself, so a stale line for a dead server carries no traffic, while a
// dropped line for a live one loses it. The price: the file's last real servers are only dropped
// by a commit or by the operator's flag.
import { closestMatch } from '../util/closest-match.js';
import type { FileInventory } from './file-inventory.js';
import { UnknownDirectorError } from './render-errors.js';

export const DEFAULT_MAX_REMOVED_PERCENT = 50;

/** What the store looks like as a whole, as the view last saw it. */
export interface StoreFacts {
  readonly connected: boolean;
  /** The newest etcd revision the view has seen on the store it reads now. */
  readonly revision: string;
  /** sync/current's commit sha; undefined when the key is missing. */
  readonly syncCommit?: string;
  /** How many records the file is made from the store holds at all (keepalived: VIP records). */
  readonly sourceRecords: number;
}

export interface GateInput {
  readonly reference: FileInventory;
  readonly proposed: FileInventory;
  /** Groups the store still declares for this file (keepalived: VIP records serving the director). */
  readonly declared: ReadonlySet<string>;
  readonly store: StoreFacts;
  /** Members their live agent deregistered on purpose: explained for rule 2. */
  readonly deregistered?: (member: string) => boolean;
  /** A render was held as a reset (a, b, c) and none was written since: rule 1e. */
  readonly recovering?: boolean;
  readonly allowMassRemoval?: boolean;
  readonly maxRemovedPercent?: number;
  /** What the file's groups and members are called, for the reason; default keepalived's. */
  readonly nouns?: GateNouns;
}

export interface GateNouns {
  readonly groups: string;
  readonly members: string;
}

export const KEEPALIVED_NOUNS: GateNouns = { groups: 'virtual servers', members: 'real servers' };

/** `reset`: held by rule 1a-c, which starts (or continues) recovering. */
export type GateVerdict = { readonly write: true } | { readonly write: false; readonly reason: string; readonly reset: boolean };

export function judgeRender(input: GateInput): GateVerdict {
  const { reference, proposed, declared, store } = input;
  const nouns = input.nouns ?? KEEPALIVED_NOUNS;
  const commitMoved = store.syncCommit !== undefined && store.syncCommit !== reference.commit;
  const deregistered = input.deregistered ?? (() => false);
  const lost = [...reference.groups].map(([group, members]) => {
    const kept = proposed.groups.get(group);
    const dropped = [...members].filter((member) => !kept?.has(member));
    const undeliberate = dropped.filter((member) => !deregistered(member)).length;
    return { group, removed: dropped.length, undeliberate, gone: !kept, explained: commitMoved && !declared.has(group) };
  });
  const removedMembers = lost.reduce((sum, entry) => sum + entry.removed, 0);
  if (removedMembers > 0) {
    const resets = resetReasons(reference, store, commitMoved);
    const reasons = [...resets, ...(!store.connected ? ['etcd is unreachable'] : []), ...(input.recovering && !commitMoved ? ['etcd was reset and does not show everything in the file again yet'] : [])];
    if (reasons.length > 0) return { write: false, reason: `the render would remove ${removedMembers} ${nouns.members} and ${reasons.join('; ')}`, reset: resets.length > 0 || input.recovering === true };
  }
  if (input.allowMassRemoval) return { write: true };
  const unexplained = lost.filter((entry) => !entry.explained);
  const goneGroups = unexplained.filter((entry) => entry.gone).map((entry) => entry.group);
  if (reference.groups.size > 0 && proposed.groups.size === 0 && goneGroups.length > 0) {
    return { write: false, reason: `the render would remove all ${nouns.groups} of the file (${goneGroups.join(', ')}) without a commit that removed them`, reset: false };
  }
  // Out of the real servers meant to stay: those of VIPs a commit removed are not at stake.
  const total = unexplained.reduce((sum, entry) => sum + reference.groups.get(entry.group)!.size, 0);
  const unexplainedRemoved = unexplained.reduce((sum, entry) => sum + entry.undeliberate, 0);
  const maxPercent = input.maxRemovedPercent ?? DEFAULT_MAX_REMOVED_PERCENT;
  if (unexplainedRemoved * 100 > maxPercent * total) {
    const percent = Math.round((unexplainedRemoved * 100) / total);
    return { write: false, reason: `the render would remove ${unexplainedRemoved} of ${total} ${nouns.members} (${percent}% > ${maxPercent}%) at once without a commit that removed them`, reset: false };
  }
  return { write: true };
}

function resetReasons(reference: FileInventory, store: StoreFacts, commitMoved: boolean): string[] {
  const reasons: string[] = [];
  if (reference.commit !== undefined && store.syncCommit === undefined) reasons.push(`sync/current is missing while the file names commit ${reference.commit}`);
  if (reference.groups.size > 0 && store.sourceRecords === 0 && !commitMoved) reasons.push('etcd holds none of the records the file is made from');
  if (reference.revision !== undefined && BigInt(store.revision) < BigInt(reference.revision)) {
    reasons.push(`etcd is at revision ${store.revision}, below the file's ${reference.revision} (restored or replaced)`);
  }
  return reasons;
}

/**
 * A director is known when a VIP record names it or a hosts/ record exists for it. With neither
 * (a wiped or never-populated etcd) nothing can be judged: `'store-empty'`, and the caller holds.
 * An unknown director throws, naming the known ones (the likeliest typo first).
 */
export function checkDirector(director: string, known: ReadonlySet<string>): 'known' | 'store-empty' {
  if (known.has(director)) return 'known';
  if (known.size === 0) return 'store-empty';
  const sorted = [...known].sort();
  const closest = closestMatch(director, sorted);
  throw new UnknownDirectorError(director, closest === undefined ? sorted : [closest, ...sorted.filter((name) => name !== closest)], closest);
}
