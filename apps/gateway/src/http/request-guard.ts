import type { IncomingHttpHeaders } from 'node:http';
import { isLoopbackHost } from '../../../../libs/control-plane-client/src/index.js';

const UNRESERVED = /%([0-9A-Fa-f]{2})/g;
/**
 * A path every step below returns unchanged: `/`-separated segments of unreserved characters, none empty and
 * none starting with a dot (so no `.` or `..` segment), no escapes. What clients send on every call.
 */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+\/?$/;

/**
 * Turns the request target into the one path the router and every check see: absolute-form
 * (`POST http://host/mcp/x`) becomes origin-form, percent-encoded unreserved characters (`/%6Dcp/`) are decoded,
 * and dot segments are resolved. Anything that cannot be read as a path becomes `/` (a 404), never a bypass.
 */
export function normalizeRequestTarget(raw: string | undefined): string {
  let target = raw ?? '/';
  if (!target.startsWith('/')) {
    try {
      const url = new URL(target);
      target = `${url.pathname}${url.search}`;
    } catch {
      return '/';
    }
  }
  const query = target.indexOf('?');
  const path = query === -1 ? target : target.slice(0, query);
  const search = query === -1 ? '' : target.slice(query);
  if (PLAIN_PATH.test(path)) return target;
  const decoded = path.replace(UNRESERVED, (escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(char) ? char : escape.toUpperCase();
  });
  try {
    return `${new URL(decoded.replace(/\/{2,}/g, '/'), 'http://gateway.invalid').pathname}${search}`;
  } catch {
    return '/';
  }
}

export interface OriginPolicy {
  /** Lower-case origins a browser may call from (`--allowed-origin`). */
  allowedOrigins: ReadonlySet<string>;
  /** Bound to a loopback address: the Host header must name loopback too. */
  loopbackOnly: boolean;
}

export function originPolicy(host: string, allowedOrigins: string[]): OriginPolicy {
  return { allowedOrigins: new Set(allowedOrigins), loopbackOnly: isLoopbackHost(host) };
}

/**
 * The MCP transport's DNS-rebinding defence: a present `Origin` must be on the allow-list (browsers send it;
 * other clients do not) — or, on a gateway bound to loopback, be a loopback origin (a page of this machine) —
 * and a gateway bound to loopback answers only requests addressed to a loopback name.
 * Returns why a request is refused, or undefined.
 */
export function foreignRequest(headers: IncomingHttpHeaders, policy: OriginPolicy): string | undefined {
  const origin = headers.origin;
  if (
    origin !== undefined &&
    !policy.allowedOrigins.has(origin.toLowerCase()) &&
    !(policy.loopbackOnly && isLoopbackOrigin(origin))
  ) {
    return `Origin ${JSON.stringify(origin.slice(0, 200))} is not allowed (see --allowed-origin)`;
  }
  if (policy.loopbackOnly) {
    const raw = headers.host ?? '';
    // Clients send the same Host on every request: a known one is answered from the memo.
    if (LOOPBACK_HOSTS.has(raw)) return undefined;
    const host = raw.toLowerCase();
    const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
    if (!name || !isLoopbackHost(name)) {
      return `Host ${JSON.stringify(host.slice(0, 200))} is not a loopback name: this gateway is bound to loopback`;
    }
    if (LOOPBACK_HOSTS.size >= 64) LOOPBACK_HOSTS.clear();
    LOOPBACK_HOSTS.add(raw);
  }
  return undefined;
}

/** Host header values already found to name loopback (bounded: a client cycling names only refills it). */
const LOOPBACK_HOSTS = new Set<string>();

function isLoopbackOrigin(origin: string): boolean {
  try {
    return isLoopbackHost(new URL(origin).hostname);
  } catch {
    return false;
  }
}
