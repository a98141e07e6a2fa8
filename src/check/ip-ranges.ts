// IP addresses and CIDR ranges for the probe's allow-list. Strict: only canonical spellings are
// addresses (dotted decimal without leading zeros, RFC 4291 IPv6 without a zone), so that
// "127.1", "0x7f.0.0.1" or "2130706433" (which the C resolver reads as 127.0.0.1) never pass as
// something else. An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is its IPv4 address.

export interface Ip {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  /** The canonical text (IPv4 dotted decimal; IPv6 as given, lower case). */
  readonly text: string;
}

export interface Cidr {
  readonly ip: Ip;
  readonly prefix: number;
  readonly text: string;
}

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function parseV4(text: string): Uint8Array | null {
  const m = V4.exec(text);
  return m ? Uint8Array.from(m.slice(1, 5).map(Number)) : null;
}

function parseV6(text: string): Uint8Array | null {
  if (!/^[0-9a-f:.]+$/i.test(text) || text.length > 45) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (const [i, p] of parts.entries()) {
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseV4(p);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-f]{1,4}$/i.test(p)) out.push(parseInt(p, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** The address, or null when the text is not a canonical IP address. */
export function parseIp(text: string): Ip | null {
  const v4 = parseV4(text);
  if (v4) return { family: 4, bytes: v4, text };
  const v6 = parseV6(text);
  if (!v6) return null;
  if (MAPPED_PREFIX.every((b, i) => v6[i] === b)) {
    const b = v6.subarray(12);
    return { family: 4, bytes: Uint8Array.from(b), text: [...b].join('.') };
  }
  return { family: 6, bytes: v6, text: text.toLowerCase() };
}

/** "ADDRESS/PREFIX" (or an address alone: its single address), or why it is not one. */
export function parseCidr(text: string): Cidr | string {
  const [addr, prefixText, extra] = text.split('/');
  if (extra !== undefined) return `"${text}" is not ADDRESS/PREFIX`;
  const v4 = parseV4(addr ?? '');
  const v6 = v4 ? null : parseV6(addr ?? '');
  if (!v4 && !v6) return `"${addr}" is not a canonical IP address`;
  const max = v4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return `"${text}" has no valid prefix length (0 to ${max})`;
  // An IPv4-mapped range is the IPv4 range (addresses are compared that way).
  if (v6 && prefix >= 96 && MAPPED_PREFIX.every((b, i) => v6[i] === b))
    return { ip: { family: 4, bytes: v6.slice(12), text: addr! }, prefix: prefix - 96, text };
  return { ip: { family: v4 ? 4 : 6, bytes: (v4 ?? v6)!, text: addr! }, prefix, text };
}

/** Whether the address lies in the range (IPv4 in IPv4 ranges, IPv6 in IPv6 ones). */
export function inCidr(ip: Ip, cidr: Cidr): boolean {
  if (ip.family !== cidr.ip.family) return false;
  for (let bit = 0; bit < cidr.prefix; bit++) {
    const mask = 0x80 >> (bit % 8);
    if ((ip.bytes[bit >> 3]! & mask) !== (cidr.ip.bytes[bit >> 3]! & mask)) return false;
  }
  return true;
}

const special = (text: string, what: string): { cidr: Cidr; what: string } => ({ cidr: parseCidr(text) as Cidr, what });

/**
 * Ranges a wide allowed range (0.0.0.0/0, ::/0) does not open: this host, the local network,
 * private and link-local networks (cloud metadata at 169.254.169.254), multicast, and IPv6
 * forms that embed an IPv4 address. Each needs a configured range inside it.
 */
export const SPECIAL_RANGES: readonly { readonly cidr: Cidr; readonly what: string }[] = [
  special('0.0.0.0/8', '"this network"'),
  special('10.0.0.0/8', 'private'),
  special('100.64.0.0/10', 'shared address space (CGNAT)'),
  special('127.0.0.0/8', 'loopback'),
  special('169.254.0.0/16', 'link-local (cloud metadata)'),
  special('172.16.0.0/12', 'private'),
  special('192.168.0.0/16', 'private'),
  special('224.0.0.0/4', 'multicast'),
  special('240.0.0.0/4', 'reserved or broadcast'),
  special('::/96', 'unspecified, loopback or IPv4-compatible'),
  special('64:ff9b::/96', 'NAT64 (embeds an IPv4 address)'),
  special('2002::/16', '6to4 (embeds an IPv4 address)'),
  special('fc00::/7', 'unique local (private)'),
  special('fe80::/10', 'link-local'),
  special('ff00::/8', 'multicast'),
];
