// The one order of endpoints everywhere (rendered configs, `ygg resolve`): by ip, then port, then host.
// IPv4 addresses compare by their numbers (10.0.0.9 before 10.0.0.10); anything else as text.

export interface EndpointAddress {
  readonly ip: string;
  readonly port: number;
  readonly host: string;
}

export function compareEndpoints(a: EndpointAddress, b: EndpointAddress): number {
  return compareIp(a.ip, b.ip) || a.port - b.port || compareText(a.host, b.host);
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareIp(a: string, b: string): number {
  const left = ipv4Number(a);
  const right = ipv4Number(b);
  return left !== undefined && right !== undefined ? left - right : compareText(a, b);
}

function ipv4Number(ip: string): number | undefined {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) return undefined;
  return ip.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
}
