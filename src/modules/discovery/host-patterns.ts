import ipaddr from 'ipaddr.js';

/**
 * Host patterns of a tenant's auto-approve list: an exact host name (`mcp.example.com`), a wildcard for its
 * sub-domains (`*.example.com`, which does not match `example.com` itself), or an IP literal.
 *
 * Security invariant: a pattern and a URL's host are compared in one canonical spelling, the host a URL parser
 * (and so the gateway's HTTP client) connects to — lower case, no trailing dot, IPv4 in dotted decimal
 * (`0x7f.1`, `2130706433` and `0177.0.0.1` are `127.0.0.1`; `010.0.0.1` is `8.0.0.1`), IPv4-mapped IPv6 as its
 * IPv4 address, other IPv6 compressed in brackets. A wildcard covers host names only: one over numbers
 * (`*.0.0.1`) is refused and never matches an IP literal.
 */
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST = new RegExp(`^(\\*\\.)?${LABEL}(\\.${LABEL})*$`);
const IPV6 = /^\[[0-9a-f:.]+\]$/;
/** The WHATWG "ends in a number" rule: such a host is read as IPv4, never as a DNS name. */
const NUMERIC_LABEL = /(^|\.)(\d+|0x[0-9a-f]*)$/;

export const MAX_AUTO_APPROVE_HOSTS = 100;

/** The canonical pattern, or undefined when it is not one. */
export function canonicalHostPattern(text: string): string | undefined {
  const pattern = text.trim().toLowerCase().replace(/\.$/, '');
  if (pattern.length === 0 || pattern.length > 253) return undefined;
  if (!HOST.test(pattern) && !IPV6.test(pattern)) return undefined;
  if (pattern.startsWith('*.')) return NUMERIC_LABEL.test(pattern) ? undefined : pattern;
  return canonicalHost(pattern);
}

/** The first pattern that matches the URL's host, if any. */
export function matchingHostPattern(url: string, patterns: readonly string[]): string | undefined {
  const host = canonicalHost(url, true);
  if (host === undefined) return undefined;
  const ip = isIpLiteral(host);
  return patterns.find((pattern) =>
    pattern.startsWith('*.')
      ? !ip && host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1
      : host === pattern,
  );
}

/** A host (or, with `isUrl`, a URL's host) in the canonical spelling above; undefined when it does not parse. */
function canonicalHost(text: string, isUrl = false): string | undefined {
  let host: string;
  try {
    host = new URL(isUrl ? text : `http://${text}/`).hostname.replace(/\.$/, '');
  } catch {
    return undefined;
  }
  if (!host.startsWith('[')) return host;
  const address = ipaddr.process(host.slice(1, -1));
  return address.kind() === 'ipv4' ? address.toString() : `[${address.toString()}]`;
}

function isIpLiteral(host: string): boolean {
  return host.startsWith('[') || NUMERIC_LABEL.test(host);
}
