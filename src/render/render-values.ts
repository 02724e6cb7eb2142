// Checks for the values that reach a rendered config file. Each returns a problem message or
// undefined. They admit only characters that cannot end a keepalived/zone-file token early: no
// whitespace, newline, brace, quote, `#`, `!` or `;`.

const IPV4_OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = new RegExp(`^${IPV4_OCTET}(\\.${IPV4_OCTET}){3}$`);
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
/** A DNS-style dotted name, as the service schema defines names: labels of [a-z0-9-], no edge hyphen. */
const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const URL_PATH = /^\/[A-Za-z0-9._~/%-]*$/;

/** 4, 6, or undefined for anything else (zone ids like `%eth0` included: keepalived has no use for them). */
export function ipFamily(value: unknown): 4 | 6 | undefined {
  if (typeof value !== 'string') return undefined;
  if (IPV4.test(value)) return 4;
  return isIpv6(value) ? 6 : undefined;
}

function isIpv6(value: string): boolean {
  if (value.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(value)) return false;
  let groupsNeeded = 8;
  let text = value;
  // An embedded IPv4 tail (::ffff:1.2.3.4) stands for two groups.
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    if (!IPV4.test(text.slice(lastColon + 1))) return false;
    text = `${text.slice(0, lastColon + 1)}0`;
    groupsNeeded = 7;
  }
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = (half: string): string[] | undefined => {
    if (half === '') return [];
    const parts = half.split(':');
    return parts.every((part) => HEX_GROUP.test(part)) ? parts : undefined;
  };
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (!head || !tail) return false;
  const count = head.length + tail.length;
  return halves.length === 2 ? count < groupsNeeded : count === groupsNeeded;
}

export function checkIp(value: unknown): string | undefined {
  return ipFamily(value) === undefined ? `${describe(value)} is not an IPv4 or IPv6 address` : undefined;
}

export function checkInteger(value: unknown, min: number, max: number): string | undefined {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max
    ? undefined
    : `${describe(value)} is not an integer in ${min}..${max}`;
}

export function checkPort(value: unknown): string | undefined {
  return checkInteger(value, 1, 65535);
}

export function checkName(value: unknown): string | undefined {
  if (typeof value !== 'string' || !NAME.test(value)) return `${describe(value)} is not a name (dotted labels of a-z, 0-9, -)`;
  if (value.length > 253 || value.split('.').some((label) => label.length > 63)) return `${describe(value)} is too long for a DNS name`;
  return undefined;
}

export function checkUrlPath(value: unknown): string | undefined {
  return typeof value === 'string' && URL_PATH.test(value) && value.length <= 1024
    ? undefined
    : `${describe(value)} is not a URL path (/ then A-Z a-z 0-9 . _ ~ / % -)`;
}

export function checkOneOf(value: unknown, allowed: readonly string[]): string | undefined {
  return typeof value === 'string' && allowed.includes(value) ? undefined : `${describe(value)} is not one of ${allowed.join(', ')}`;
}

/** Header values (commit, revision) end up in a comment: a token of safe characters only. */
export function checkToken(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(value) ? undefined : `${describe(value)} is not a plain token`;
}

/** JSON-quoted, so a hostile value shows its newline as `\n` in the error instead of breaking the line. */
function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
