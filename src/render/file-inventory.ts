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
  // A 10,000-real-server file is ~100,000 lines, read on every render: one pass without a regex or
  // an array per line (most lines are `weight 1`, `}` and checker options, which only move the depth).
  for (let start = 0; start < text.length; ) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    const line = withoutComment(text, start, end).trim();
    start = end + 1;
    if (line === '') continue;
    if (depth <= 1 && (line.startsWith('virtual_server') || line.startsWith('protocol') || line.startsWith('real_server'))) {
      const words = line.split(/\s+/);
      if (depth === 0 && words[0] === 'virtual_server' && words.length >= 3) {
        close();
        block = { address: words[1]!, port: words[2]!, protocol: 'TCP', members: new Set() };
      } else if (block && depth === 1 && words[0] === 'protocol' && words[1]) {
        block.protocol = words[1];
      } else if (block && depth === 1 && words[0] === 'real_server' && words.length >= 3) {
        block.members.add(`${words[1]} ${words[2]}`);
      }
    }
    depth += braceBalance(line);
    if (depth <= 0) {
      depth = 0;
      if (line.includes('}')) close();
    }
  }
  close();
  return { ...header(text), groups };
}

/** text[start, end) up to its first `#` or `!` (keepalived's comment characters). */
function withoutComment(text: string, start: number, end: number): string {
  for (let index = start; index < end; index++) {
    const code = text.charCodeAt(index);
    if (code === HASH || code === BANG) return text.slice(start, index);
  }
  return text.slice(start, end);
}

/** Opening minus closing braces on a line. */
function braceBalance(line: string): number {
  let balance = 0;
  for (let index = 0; index < line.length; index++) {
    const code = line.charCodeAt(index);
    if (code === OPEN) balance++;
    else if (code === CLOSE) balance--;
  }
  return balance;
}

const HASH = 0x23;
const BANG = 0x21;
const OPEN = 0x7b;
const CLOSE = 0x7d;

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
