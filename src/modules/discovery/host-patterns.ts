/**
 * Host patterns of a tenant's auto-approve list: an exact host name (`mcp.example.com`), a wildcard for its
 * sub-domains (`*.example.com`, which does not match `example.com` itself), or an IP literal. Compared
 * case-insensitively with the URL's host name (port ignored).
 */
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST = new RegExp(`^(\\*\\.)?${LABEL}(\\.${LABEL})*$`);
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;

export const MAX_AUTO_APPROVE_HOSTS = 100;

/** The canonical pattern, or undefined when it is not one. */
export function canonicalHostPattern(text: string): string | undefined {
  const pattern = text.trim().toLowerCase();
  if (pattern.length === 0 || pattern.length > 253) return undefined;
  if (HOST.test(pattern) || IPV4.test(pattern) || IPV6.test(pattern)) return pattern;
  return undefined;
}

/** The first pattern that matches the URL's host, if any. */
export function matchingHostPattern(url: string, patterns: readonly string[]): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  return patterns.find((pattern) =>
    pattern.startsWith('*.')
      ? host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1
      : host === pattern,
  );
}
