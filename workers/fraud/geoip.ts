import { createRequire } from 'node:module';
import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * IP -> country from the offline GeoLite2 country dataset bundled in `geoip-country` (no network
 * call on the checkout path). The dataset is refreshed by upgrading the package, not at runtime.
 */

interface GeoipCountryModule {
  lookup(ip: string): { country?: string } | null;
}

// The package is CommonJS without type declarations, and it reads ~7 MB into memory when first
// required; loading lazily keeps that cost out of processes that never score an order.
let geoip: GeoipCountryModule | undefined;
function dataset(): GeoipCountryModule {
  geoip ??= createRequire(import.meta.url)('geoip-country') as GeoipCountryModule;
  return geoip;
}

export type NormalizedIp = { version: 4; address: string } | { version: 6; address: string; groups: string[] };

/**
 * Canonical form: dotted IPv4 (IPv4-mapped IPv6 is unwrapped, so "::ffff:1.2.3.4" and "1.2.3.4"
 * are one address), or fully expanded lowercase IPv6 without zone id. Null when not an IP.
 */
export function normalizeIp(input: string): NormalizedIp | null {
  const ip = input.trim();
  if (isIPv4(ip)) return { version: 4, address: ip };
  const withoutZone = ip.replace(/%.*$/, '');
  if (!isIPv6(withoutZone)) return null;
  const groups = expandIpv6(withoutZone);
  if (groups.slice(0, 5).every((g) => g === '0000') && groups[5] === 'ffff') {
    const high = parseInt(groups[6] ?? '0', 16);
    const low = parseInt(groups[7] ?? '0', 16);
    return { version: 4, address: `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}` };
  }
  return { version: 6, address: groups.join(':'), groups };
}

function expandIpv6(ip: string): string[] {
  let text = ip.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => g.padStart(4, '0'));
}

// Addresses that are not on the public internet (RFC 6890 special-purpose registries). The dataset
// has no country for them, but deciding here keeps that true whatever a future dataset holds.
const NON_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 127], // unspecified and loopback
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link local
  ['ff00::', 8], // multicast
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv6');
}

export function isPublicIp(ip: string): boolean {
  const normalized = normalizeIp(ip);
  if (!normalized) return false;
  return !NON_PUBLIC.check(normalized.address, normalized.version === 4 ? 'ipv4' : 'ipv6');
}

/** ISO 3166-1 alpha-2 country of a public IP per the dataset; null for private, reserved, unknown or malformed input. */
export function lookupCountry(ip: string): string | null {
  const normalized = normalizeIp(ip);
  if (!normalized) return null;
  if (NON_PUBLIC.check(normalized.address, normalized.version === 4 ? 'ipv4' : 'ipv6')) return null;
  const country = dataset().lookup(normalized.address)?.country;
  return typeof country === 'string' && /^[A-Z]{2}$/.test(country) ? country : null;
}
