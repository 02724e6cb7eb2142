// What a rendered file serves, read back from its text: the groups (keepalived: virtual servers;
// DNS: names) and their members (real servers; addresses), plus the commit and etcd revision its
// header names. The file on disk is the render gate's reference, so this must work on the file as
// it is after a restart, not on anything remembered in memory. Pure.

export interface FileInventory {
  /** The commit the header names; undefined when it names none ("unknown") or has no header. */
  readonly commit?: string;
  /** The etcd revision the header names. */
  readonly revision?: string;
  /** group key → member keys. A group listed here has at least one member. */
  readonly groups: ReadonlyMap<string, ReadonlySet<string>>;
}

export const EMPTY_INVENTORY: FileInventory = { groups: new Map() };

const HEADER = /^[#;].*rendered by Yggdrasil from commit (\S+), etcd revision (\d+)\./im;

/** The key of a virtual server, as the render gate and keepalivedGroups (render-formats) spell it. */
export function virtualServerKey(address: string, port: number | string, protocol: string): string {
  return `${address} ${port} ${protocol}`;
}

/**
 * keepalived.conf: each top-level `virtual_server ADDRESS PORT {` block with its `protocol` (TCP
 * when absent, as keepalived assumes) and `real_server ADDRESS PORT` lines. Comments (`#`, `!`) are
 * ignored, so a virtual server the template left out as a comment does not count. A block without
 * any real server serves nothing and is not a group.
 */
export function keepalivedInventory(text: string): FileInventory {
  const groups = new Map<string, Set<string>>();
  let depth = 0;
  let block: { address: string; port: string; protocol: string; members: Set<string> } | undefined;
  const close = () => {
    if (block && block.members.size > 0) groups.set(virtualServerKey(block.address, block.port, block.protocol), block.members);
    block = undefined;
  };
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/[#!].*$/, '').trim();
    if (line === '') continue;
    const words = line.split(/\s+/);
    if (depth === 0 && words[0] === 'virtual_server' && words.length >= 3) {
      close();
      block = { address: words[1]!, port: words[2]!, protocol: 'TCP', members: new Set() };
    } else if (block && depth === 1 && words[0] === 'protocol' && words[1]) {
      block.protocol = words[1];
    } else if (block && depth === 1 && words[0] === 'real_server' && words.length >= 3) {
      block.members.add(`${words[1]} ${words[2]}`);
    }
    depth += (line.match(/\{/g)?.length ?? 0) - (line.match(/\}/g)?.length ?? 0);
    if (depth <= 0) {
      depth = 0;
      if (line.includes('}')) close();
    }
  }
  close();
  return { ...header(text), groups };
}

/** A DNS zone fragment: each `NAME IN A|AAAA ADDRESS` record; the name is the group. */
export function zoneInventory(text: string): FileInventory {
  const groups = new Map<string, Set<string>>();
  for (const rawLine of text.split('\n')) {
    const match = /^(\S+)\s+(?:\d+\s+)?IN\s+(A|AAAA)\s+(\S+)/.exec(rawLine.replace(/;.*$/, ''));
    if (!match) continue;
    const members = groups.get(match[1]!) ?? new Set<string>();
    members.add(`${match[2]} ${match[3]}`);
    groups.set(match[1]!, members);
  }
  return { ...header(text), groups };
}

function header(text: string): { commit?: string; revision?: string } {
  const match = HEADER.exec(text.slice(0, 4096));
  if (!match) return {};
  return { ...(match[1] !== 'unknown' && { commit: match[1]! }), revision: match[2]! };
}
