import { domainToASCII } from 'node:url';

/** Stands for a host that could not be parsed; it is never allowed. */
export const UNPARSEABLE_HOST = '(unparseable host)';

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const isIpLiteral = (host: string): boolean => host.includes(':') || IPV4.test(host);

/**
 * Canonical host form: brackets and trailing dots removed, percent-escapes decoded, lower case, IDN in
 * punycode (`bücher.example` → `xn--bcher-kva.example`, fullwidth dots folded). Returns `UNPARSEABLE_HOST`
 * for anything that is not a valid host name or IP literal.
 */
export function normalizeHost(raw: string): string {
  let host = raw.trim();
  if (host.startsWith('[') && host.endsWith(']')) return host.slice(1, -1).toLowerCase();
  try {
    host = decodeURIComponent(host);
  } catch {
    return UNPARSEABLE_HOST;
  }
  // domainToASCII would silently cut `allowed.com\.evil.com` down to `allowed.com`: refuse such spellings.
  if (/[\s\\/@?#%<>^`{|}"']/.test(host)) return UNPARSEABLE_HOST;
  if (host.includes(':')) return /^[0-9a-f:.]+$/i.test(host) ? host.toLowerCase() : UNPARSEABLE_HOST;
  const ascii = domainToASCII(host.toLowerCase()).replace(/\.+$/, '');
  return ascii === '' ? UNPARSEABLE_HOST : ascii;
}

/**
 * The hosts a URL may reach, under every reading a client might apply. A WHATWG parser (browsers, Node's
 * fetch) and an RFC 3986 reader (curl, many libraries) disagree on spellings such as
 * `https://allowed.com\@evil.com`; listing both means a URL is allowed only when every reading is allowed.
 * Userinfo (`https://allowed.com@evil.com`) is never mistaken for the host. Empty for host-less URLs
 * (`file:///etc/hosts`).
 */
export function hostsOfUrl(url: string): readonly string[] {
  let hosts = urlHosts.get(url);
  if (hosts === undefined) {
    hosts = Object.freeze(parseHosts(url));
    if (urlHosts.size >= URL_MEMO_SIZE) urlHosts.clear();
    urlHosts.set(url, hosts);
  }
  return hosts;
}

/** URL parsing is the costliest step of inspection and URLs repeat: remember recent answers. */
const urlHosts = new Map<string, readonly string[]>();
const URL_MEMO_SIZE = 2_048;

function parseHosts(url: string): string[] {
  const hosts = new Set<string>();
  try {
    const parsed = new URL(url);
    if (parsed.hostname !== '') hosts.add(normalizeHost(parsed.hostname));
  } catch {
    // the RFC reading below still applies; if it finds nothing either, the caller sees no host
  }
  const rest = url.slice(url.indexOf('//') + 2);
  const authority = rest.slice(0, rest.search(/[/?#]|$/));
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  const host = hostPort.startsWith('[')
    ? hostPort.slice(0, hostPort.indexOf(']') + 1)
    : hostPort.replace(/:\d*$/, '');
  if (host !== '') hosts.add(normalizeHost(host));
  return [...hosts];
}

/**
 * Hosts named by a value under a host-like key (`url`, `host`, `endpoint`…): a full URL, a protocol-relative
 * `//host/path`, or a bare `host[:port][/path]` (with optional userinfo). Values that look like local paths
 * are not hosts.
 */
export function hostsOfHostValue(value: string): readonly string[] {
  const trimmed = value.trim();
  if (trimmed === '') return [];
  if (trimmed.includes('://')) return hostsOfUrl(trimmed);
  if (trimmed.startsWith('//')) return hostsOfUrl(`http:${trimmed}`);
  if (/^[./~\\]/.test(trimmed)) return [];
  return hostsOfUrl(`http://${trimmed}`);
}

const NONE: readonly string[] = Object.freeze([]);
const EMBEDDED_URL = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]*/gi;
const UNC = /(?:^|[\s"'=])\\\\([^\\/\s"']+)/g;

/** Hosts of every URL embedded in a free-text string (a command line, a query) and of UNC paths `\\host\share`. */
export function hostsInText(text: string): readonly string[] {
  const hasUrl = text.includes('://');
  const hasUnc = text.includes('\\\\');
  if (!hasUrl && !hasUnc) return NONE;
  const hosts: string[] = [];
  if (hasUrl) {
    for (const match of text.matchAll(EMBEDDED_URL)) hosts.push(...hostsOfUrl(match[0]));
  }
  if (hasUnc) {
    for (const match of text.matchAll(UNC)) {
      if (match[1] !== '?' && match[1] !== '.') hosts.push(normalizeHost(match[1]));
    }
  }
  return hosts;
}

/**
 * A compiled egress allow-list. `example.com` allows the host and its subdomains, `*.example.com` only the
 * subdomains, IP literals only themselves. Ports are not considered.
 */
export class HostAllowList {
  private readonly withSubdomains = new Set<string>();
  private readonly subdomainsOnly = new Set<string>();
  private readonly ips = new Set<string>();
  /** The longest host name in the list. */
  private readonly longest: number = 0;

  /** Throws an Error naming the first bad entry. */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const problem = allowEntryProblem(entry);
      if (problem) throw new Error(problem);
      const wildcard = entry.startsWith('*.');
      const host = normalizeHost(wildcard ? entry.slice(2) : entry);
      if (isIpLiteral(host)) this.ips.add(host);
      else {
        (wildcard ? this.subdomainsOnly : this.withSubdomains).add(host);
        this.longest = Math.max(this.longest, host.length);
      }
    }
  }

  allows(host: string): boolean {
    if (host === UNPARSEABLE_HOST) return false;
    if (isIpLiteral(host)) return this.ips.has(host);
    if (this.withSubdomains.has(host)) return true;
    // Only parents as long as some entry can be one: `a.a.a.…` (thousands of labels) is not hashed label by label.
    const from = Math.max(0, host.length - this.longest - 1);
    for (let dot = host.indexOf('.', from); dot !== -1; dot = host.indexOf('.', dot + 1)) {
      const parent = host.slice(dot + 1);
      if (this.withSubdomains.has(parent) || this.subdomainsOnly.has(parent)) return true;
    }
    return false;
  }
}

function allowEntryProblem(entry: string): string | undefined {
  const bare = entry.startsWith('*.') ? entry.slice(2) : entry;
  if (
    bare === '' ||
    /[\s/\\@?#*]|:\/\//.test(bare) ||
    (/:/.test(bare) && !/^\[?[0-9a-f:.]+\]?$/i.test(bare))
  ) {
    return `"${entry}" is not a host name: write example.com, *.example.com or an IP address, without scheme, port or path`;
  }
  if (normalizeHost(bare) === UNPARSEABLE_HOST) return `"${entry}" is not a valid host name`;
  return undefined;
}
