import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * Cloud metadata services: never reachable from the runtime, whatever the allow-list says. The whole IPv4
 * link-local range is included (AWS, GCP, Azure at 169.254.169.254; ECS task metadata at 169.254.170.2).
 */
const METADATA: Array<[Address, number]> = [
  ipaddr.parseCIDR('169.254.0.0/16'),
  ipaddr.parseCIDR('fd00:ec2::254/128'),
  ipaddr.parseCIDR('100.100.100.200/32'), // Alibaba Cloud
  ipaddr.parseCIDR('192.0.0.192/32'), // Oracle Cloud
];

/** A refusal: the address as canonical text and why. */
export interface EgressRefusal {
  address: string;
  reason: string;
}

/** An address the runtime must not reach with the port it listens on (the control plane's own). */
export interface ProtectedEndpoint {
  host: string;
  port: number;
}

/**
 * Where the runtime may send upstream traffic. By default only public unicast addresses: loopback, link-local,
 * private, unique-local, carrier-grade NAT, unspecified, multicast and reserved ranges are refused in every
 * spelling — IPv4-mapped (`::ffff:a9fe:a9fe`), IPv4-compatible (`::a9fe:a9fe`), NAT64 (`64:ff9b::a9fe:a9fe`),
 * 6to4 and Teredo embed an IPv4 address that is checked too. The operator opens ranges (`10.0.0.0/8`) or host
 * names (`*.svc.cluster.local`) with the allow-list; metadata addresses and the control plane's own
 * address:port stay refused even then. Checked on the address actually connected to (see `connectGuard`).
 */
export class EgressGuard {
  private readonly cidrs: Array<[Address, number]> = [];
  private readonly hostGlobs: RegExp[] = [];
  private readonly protectedEndpoints: Array<{ address?: string; host: string; port: number }> = [];

  constructor(allow: readonly string[] = []) {
    for (const entry of allow) {
      const problem = this.add(entry.trim());
      if (problem) throw new EgressConfigError(`--egress-allow "${entry}": ${problem}`);
    }
  }

  /** The entries as given, for /healthz and startup lines. */
  get allowed(): string[] {
    return [
      ...this.cidrs.map(([a, bits]) => `${a.toString()}/${bits}`),
      ...this.hostGlobs.map((g) => g.source),
    ];
  }

  /** Refuse `host:port` even when an allow-list entry covers it (the control plane's own address). */
  protect(endpoint: ProtectedEndpoint): void {
    const host = endpoint.host.replace(/^\[|\]$/g, '').toLowerCase();
    const parsed = parseAddress(host);
    this.protectedEndpoints.push({
      address: parsed ? canonical(parsed) : undefined,
      host,
      port: endpoint.port,
    });
  }

  /** Why connecting to `address:port` (reached through `hostname`) is refused, or undefined when it may go. */
  check(address: string, port: number, hostname?: string): EgressRefusal | undefined {
    const parsed = parseAddress(address);
    if (!parsed) return { address, reason: 'is not an IP address' };
    const text = canonical(parsed);
    const embedded = embeddedIPv4(parsed);
    const all = embedded ? [parsed, embedded] : [parsed];
    if (all.some((a) => METADATA.some((range) => a.kind() === range[0].kind() && a.match(range))))
      return { address: text, reason: 'is a cloud metadata address (never allowed)' };
    const name = hostname?.replace(/^\[|\]$/g, '').toLowerCase();
    for (const p of this.protectedEndpoints) {
      const same = p.address ? all.some((a) => canonical(a) === p.address) : name === p.host;
      if (same && p.port === port) return { address: text, reason: "is the control plane's own address" };
    }
    // An IPv6 form that carries an IPv4 address (mapped, NAT64, 6to4, …) is judged by the address it carries.
    const range = (embedded ?? parsed).range();
    if (PUBLIC_RANGES.has(range)) return undefined;
    if (all.some((a) => this.cidrs.some((range) => a.kind() === range[0].kind() && a.match(range))))
      return undefined;
    if (name && this.hostGlobs.some((glob) => glob.test(name))) return undefined;
    return {
      address: text,
      reason: `is ${RANGE_NAMES[range] ?? `a special-purpose address (${range})`} (see --egress-allow)`,
    };
  }

  /** For an upstream URL's host: a refusal when it is an IP literal that may not be reached; names pass here. */
  checkLiteral(hostname: string, port: number): EgressRefusal | undefined {
    const host = hostname.replace(/^\[|\]$/g, '');
    return parseAddress(host) ? this.check(host, port, host) : undefined;
  }

  private add(entry: string): string | undefined {
    if (!entry) return 'empty entry';
    if (entry.includes('/')) {
      try {
        const [address, bits] = ipaddr.parseCIDR(entry);
        const mapped = address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress();
        // ::ffff:10.0.0.0/104 means 10.0.0.0/8: addresses are compared in their canonical (IPv4) form.
        this.cidrs.push(
          mapped ? [(address as ipaddr.IPv6).toIPv4Address(), Math.max(0, bits - 96)] : [address, bits],
        );
        return undefined;
      } catch {
        return 'not a CIDR range (e.g. 10.0.0.0/8, 127.0.0.1/32, fd00::/8)';
      }
    }
    const single = parseAddress(entry.replace(/^\[|\]$/g, ''));
    if (single) {
      this.cidrs.push([single, single.kind() === 'ipv4' ? 32 : 128]);
      return undefined;
    }
    if (!/^[a-z0-9*]([a-z0-9*.-]*[a-z0-9])?$/i.test(entry))
      return 'not a host name pattern (e.g. *.svc.cluster.local)';
    const source = entry
      .toLowerCase()
      .split('*')
      .map((part) => part.replace(/[.]/g, '\\.'))
      .join('[a-z0-9-]*(?:\\.[a-z0-9-]+)*');
    this.hostGlobs.push(new RegExp(`^${source}$`));
    return undefined;
  }
}

export class EgressConfigError extends Error {
  override name = 'EgressConfigError';
}

const PUBLIC_RANGES = new Set(['unicast']);
const RANGE_NAMES: Record<string, string> = {
  loopback: 'a loopback address',
  linkLocal: 'a link-local address',
  private: 'a private address',
  uniqueLocal: 'a private (unique local) address',
  carrierGradeNat: 'a carrier-grade NAT address',
  unspecified: 'the unspecified address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved address',
};

function parseAddress(text: string): Address | undefined {
  try {
    return ipaddr.parse(text.split('%')[0]);
  } catch {
    return undefined;
  }
}

function canonical(address: Address): string {
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress())
    return (address as ipaddr.IPv6).toIPv4Address().toString();
  return address.toString();
}

/** The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo), if it carries one. */
function embeddedIPv4(address: Address): ipaddr.IPv4 | undefined {
  if (address.kind() !== 'ipv6') return undefined;
  const v6 = address as ipaddr.IPv6;
  const p = v6.parts;
  const last = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  switch (v6.range()) {
    case 'ipv4Mapped':
    case 'rfc6145':
    case 'rfc6052':
      return last(p[6], p[7]);
    case '6to4':
      return last(p[1], p[2]);
    case 'teredo':
      return last(p[6] ^ 0xffff, p[7] ^ 0xffff);
  }
  // IPv4-compatible (::a.b.c.d, deprecated but still routed by some stacks); :: and ::1 are themselves.
  if (p.slice(0, 6).every((x) => x === 0) && (p[6] !== 0 || p[7] > 1)) return last(p[6], p[7]);
  return undefined;
}
