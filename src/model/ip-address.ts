// IP address literals as the model uses them (a host's ip, a VIP, a health check's host): parse,
// compare, and tell which addresses can never be a unicast destination. Pure: no node:net.

export interface IpAddress {
  readonly family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  readonly bytes: readonly number[];
}

/**
 * What kind of destination an address is. Only `unicast` and `loopback` can be connected to;
 * loopback reaches this machine alone.
 */
export type AddressScope = 'unspecified' | 'loopback' | 'multicast' | 'broadcast' | 'link-local' | 'unicast';

const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

/** A dotted quad or an IPv6 literal (an IPv4 tail allowed, no zone index); undefined for anything else. */
export function parseIp(text: string): IpAddress | undefined {
  if (IPV4.test(text)) return { family: 4, bytes: text.split('.').map(Number) };
  return parseIpv6(text);
}

function parseIpv6(text: string): IpAddress | undefined {
  if (text.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  let head = text;
  let tail: number[] = [];
  if (text.includes('.')) {
    const lastColon = text.lastIndexOf(':');
    const quad = text.slice(lastColon + 1);
    if (!IPV4.test(quad)) return undefined;
    const [a, b, c, d] = quad.split('.').map(Number) as [number, number, number, number];
    tail = [(a << 8) | b, (c << 8) | d];
    head = text.slice(0, lastColon + 1);
    // "::1.2.3.4" leaves "::", "a::1.2.3.4" leaves "a::", "a:b:...:1.2.3.4" leaves a trailing ":" to drop.
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === '') return [];
    const parts = half.split(':');
    return parts.every((part) => HEX_GROUP.test(part)) ? parts.map((part) => Number.parseInt(part, 16)) : undefined;
  };
  const before = groups(halves[0]!);
  const after = halves.length === 2 ? groups(halves[1]!) : [];
  if (!before || !after) return undefined;
  const given = before.length + after.length + tail.length;
  if (halves.length === 2 ? given > 7 : given !== 8) return undefined;
  const words = [...before, ...new Array<number>(8 - given).fill(0), ...after, ...tail];
  return { family: 6, bytes: words.flatMap((word) => [word >> 8, word & 0xff]) };
}

/** The IPv4 address an IPv6 address maps (::ffff:a.b.c.d), which is what a connect reaches. */
function mappedIpv4(address: IpAddress): IpAddress | undefined {
  if (address.family !== 6) return undefined;
  const { bytes } = address;
  const mapped = bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? { family: 4, bytes: bytes.slice(12) } : undefined;
}

export function addressScope(address: IpAddress): AddressScope {
  const v4 = address.family === 4 ? address : mappedIpv4(address);
  if (v4) {
    const [a, b] = v4.bytes as [number, number, number, number];
    // 0.0.0.0/8 is "this network": a source address only, never a destination.
    if (a === 0) return 'unspecified';
    if (a === 127) return 'loopback';
    if (a === 169 && b === 254) return 'link-local';
    if (a >= 224 && a <= 239) return 'multicast';
    if (v4.bytes.every((byte) => byte === 255)) return 'broadcast';
    return 'unicast';
  }
  const { bytes } = address;
  if (bytes.slice(0, 15).every((byte) => byte === 0)) return bytes[15] === 0 ? 'unspecified' : bytes[15] === 1 ? 'loopback' : 'unicast';
  if (bytes[0] === 0xff) return 'multicast';
  if (bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80) return 'link-local';
  return 'unicast';
}

/** One spelling per address (IPv6 lowercase, uncompressed), so `::1` and `0::1` compare equal. */
export function canonicalIp(text: string): string {
  const address = parseIp(text);
  if (!address) return text;
  if (address.family === 4) return address.bytes.join('.');
  const words: string[] = [];
  for (let index = 0; index < 16; index += 2) words.push(((address.bytes[index]! << 8) | address.bytes[index + 1]!).toString(16));
  return words.join(':');
}
