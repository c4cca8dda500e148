// Which IP addresses a webhook may reach: public unicast only, unless the
// development allowance is on. Pure (no DNS): lib/alerts/webhook.ts resolves
// the host and checks every address it gets, IPv4 and IPv6, before it connects
// to one of exactly those addresses.
import { isIP } from 'node:net';

interface Range4 {
  base: number;
  bits: number;
  label: string;
}

// Special-purpose IPv4 blocks (IANA registry) a webhook has no business with.
const V4: Range4[] = [
  ['0.0.0.0', 8, 'this network (0.0.0.0/8)'],
  ['10.0.0.0', 8, 'private (10.0.0.0/8)'],
  ['100.64.0.0', 10, 'carrier-grade NAT (100.64.0.0/10)'],
  ['127.0.0.0', 8, 'loopback (127.0.0.0/8)'],
  ['169.254.0.0', 16, 'link-local / cloud metadata (169.254.0.0/16)'],
  ['172.16.0.0', 12, 'private (172.16.0.0/12)'],
  ['192.0.0.0', 24, 'IETF protocol assignments (192.0.0.0/24)'],
  ['192.0.2.0', 24, 'documentation (192.0.2.0/24)'],
  ['192.88.99.0', 24, '6to4 relay (192.88.99.0/24)'],
  ['192.168.0.0', 16, 'private (192.168.0.0/16)'],
  ['198.18.0.0', 15, 'benchmarking (198.18.0.0/15)'],
  ['198.51.100.0', 24, 'documentation (198.51.100.0/24)'],
  ['203.0.113.0', 24, 'documentation (203.0.113.0/24)'],
  ['224.0.0.0', 4, 'multicast (224.0.0.0/4)'],
  ['240.0.0.0', 4, 'reserved or broadcast (240.0.0.0/4)'],
].map(([ip, bits, label]) => ({ base: parseIPv4(ip as string)!, bits: bits as number, label: label as string }));

/** The address as a 32-bit unsigned number, or null when it is not dotted-quad IPv4. */
export function parseIPv4(s: string): number | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

/** The address as a 128-bit bigint, or null when it is not IPv6 (a zone id, "%eth0", is refused: only link-local has one). */
export function parseIPv6(s: string): bigint | null {
  if (s.includes('%')) return null;
  let text = s;
  // An embedded IPv4 tail (::ffff:1.2.3.4) stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.slice(lastColon + 1).includes('.')) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (v4 === null) return null;
    text = `${text.slice(0, lastColon + 1)}${Math.floor(v4 / 65536).toString(16)}:${(v4 % 65536).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const explicit = head.length + rest.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return null;
  const all: number[] = [];
  for (const g of [...head, ...(halves.length === 2 ? Array(8 - explicit).fill('0') : []), ...rest]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    all.push(parseInt(g, 16));
  }
  if (all.length !== 8) return null;
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

function inRange6(n: bigint, prefix: string, bits: number): boolean {
  const base = parseIPv6(prefix)!;
  const shift = BigInt(128 - bits);
  return n >> shift === base >> shift;
}

function v4Reason(n: number): string | null {
  for (const r of V4) {
    const size = 2 ** (32 - r.bits);
    if (Math.floor(n / size) === Math.floor(r.base / size)) return r.label;
  }
  return null;
}

/** The IPv4 address held in the low 32 bits. */
const low32 = (n: bigint): number => Number(n & 0xffffffffn);

function v6Reason(n: bigint): string | null {
  if (n === 0n) return 'unspecified (::)';
  if (n === 1n) return 'loopback (::1)';
  // Forms that carry an IPv4 address: judged by that address.
  if (inRange6(n, '::ffff:0:0', 96)) return v4Reason(low32(n)) ?? null;
  if (inRange6(n, '64:ff9b::', 96)) return v4Reason(low32(n)) ?? null;
  if (inRange6(n, '2002::', 16)) return v4Reason(Number((n >> 80n) & 0xffffffffn)) ?? null;
  const ranges: [string, number, string][] = [
    ['::', 96, 'IPv4-compatible (::/96, deprecated)'],
    ['64:ff9b:1::', 48, 'local-use NAT64 (64:ff9b:1::/48)'],
    ['100::', 64, 'discard (100::/64)'],
    ['2001::', 32, 'Teredo (2001::/32)'],
    ['2001:2::', 48, 'benchmarking (2001:2::/48)'],
    ['2001:10::', 28, 'ORCHID (2001:10::/28)'],
    ['2001:db8::', 32, 'documentation (2001:db8::/32)'],
    ['3fff::', 20, 'documentation (3fff::/20)'],
    ['fc00::', 7, 'unique local (fc00::/7)'],
    ['fe80::', 10, 'link-local (fe80::/10)'],
    ['fec0::', 10, 'site-local (fec0::/10)'],
    ['ff00::', 8, 'multicast (ff00::/8)'],
  ];
  for (const [prefix, bits, label] of ranges) if (inRange6(n, prefix, bits)) return label;
  return null;
}

/**
 * Why a webhook must not reach this address (e.g. "loopback (127.0.0.0/8)"),
 * or null for a public unicast address. Anything that does not parse is refused.
 */
export function blockedReason(address: string): string | null {
  const ip = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const kind = isIP(ip);
  if (kind === 4) return v4Reason(parseIPv4(ip)!);
  if (kind === 6) {
    const n = parseIPv6(ip);
    return n === null ? 'not a usable IPv6 address (a zone id or an unknown form)' : v6Reason(n);
  }
  return 'not an IP address';
}
