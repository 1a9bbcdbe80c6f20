import { InvalidEventPatternError } from './errors.ts';

/** An address range: the first address as a bigint, the prefix length, and the IP version. */
export interface CidrRange {
  readonly version: 4 | 6;
  readonly network: bigint;
  readonly bits: number;
}

/** Parses `a.b.c.d/n` or an IPv6 `addr/n`; host bits beyond the prefix are ignored, as AWS does. */
export function compileCidr(text: string, path: string): CidrRange {
  const slash = text.indexOf('/');
  if (slash < 0 || slash !== text.lastIndexOf('/')) {
    throw new InvalidEventPatternError(path, `malformed CIDR "${text}": expected "address/prefix-length"`);
  }
  const address = parseIp(text.slice(0, slash));
  const bitsText = text.slice(slash + 1);
  if (address === undefined) {
    throw new InvalidEventPatternError(
      path,
      `malformed CIDR "${text}": "${text.slice(0, slash)}" is not an IP address`,
    );
  }
  const max = address.version === 4 ? 32 : 128;
  const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  // EventBridge refuses a range of one address (/32, /128): a rule written here must load there too.
  if (!(bits >= 0 && bits < max)) {
    throw new InvalidEventPatternError(
      path,
      `malformed CIDR "${text}": prefix length must be an integer from 0 to ${max - 1} for IPv${address.version}` +
        (bits === max ? `; for one address, match it exactly: ["${text.slice(0, slash)}"]` : ''),
    );
  }
  return { version: address.version, network: mask(address.value, bits, max), bits };
}

/** True when `value` is an IP address (of the same version) inside `range`. */
export function cidrContains(range: CidrRange, value: string): boolean {
  const address = parseIp(value);
  if (address === undefined || address.version !== range.version) return false;
  const max = range.version === 4 ? 32 : 128;
  return mask(address.value, range.bits, max) === range.network;
}

function mask(value: bigint, bits: number, max: number): bigint {
  const hostBits = BigInt(max - bits);
  return (value >> hostBits) << hostBits;
}

interface ParsedIp {
  readonly version: 4 | 6;
  readonly value: bigint;
}

export function parseIp(text: string): ParsedIp | undefined {
  if (text.includes(':')) {
    const value = parseIpv6(text);
    return value === undefined ? undefined : { version: 6, value };
  }
  const value = parseIpv4(text);
  return value === undefined ? undefined : { version: 4, value };
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  let groups: string[];
  let tail: bigint | undefined;
  let tailGroups = 0;
  // An embedded IPv4 tail (::ffff:10.0.0.1) fills the last two 16-bit groups.
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    tail = parseIpv4(last);
    if (tail === undefined) return undefined;
    tailGroups = 2;
    const head = text.slice(0, lastColon + 1);
    text = head.endsWith('::') ? head : head.slice(0, -1);
  }
  const doubleColon = text.indexOf('::');
  if (doubleColon !== text.lastIndexOf('::')) return undefined;
  if (doubleColon >= 0) {
    const head = text.slice(0, doubleColon) === '' ? [] : text.slice(0, doubleColon).split(':');
    const rest = text.slice(doubleColon + 2);
    const end = rest === '' ? [] : rest.split(':');
    const missing = 8 - tailGroups - head.length - end.length;
    if (missing < 1) return undefined;
    groups = [...head, ...(Array(missing).fill('0') as string[]), ...end];
  } else {
    groups = text === '' ? [] : text.split(':');
    if (groups.length !== 8 - tailGroups) return undefined;
  }
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  if (tail !== undefined) value = (value << 32n) | tail;
  return value;
}
