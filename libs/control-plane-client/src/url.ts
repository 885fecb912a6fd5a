import { isIP } from 'node:net';
import { ControlPlaneError } from './errors.js';

/** The path `--push-url` gets when it has none. */
export const FLEET_SYNC_PATH = '/v1/fleet/sync';
/** The tenant's signed policy bundle (ETag / If-None-Match). */
export const POLICY_BUNDLE_PATH = '/v1/policy/bundle';
/** The public keys policy bundles are signed with. */
export const POLICY_KEYS_PATH = '/v1/policy/verification-key';
/** Runtime audit events from proxies and gateways. */
export const AUDIT_PUSH_PATH = '/v1/proxy/audit';

/**
 * Loopback hosts, where plain http cannot leave the machine: `localhost` (and `*.localhost`), 127.0.0.0/8,
 * `::1`, and IPv4-mapped 127.x.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) {
    if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^::ffff:(.+)$/.exec(host)?.[1];
    if (!mapped) return false;
    if (isIP(mapped) === 4) return mapped.startsWith('127.');
    return /^7f[0-9a-f]{2}:/.test(mapped); // ::ffff:7f00:1 is how URL normalizes ::ffff:127.0.0.1
  }
  return false;
}

/**
 * Parses a control-plane URL and refuses what would expose the API key: plain http to anything but a
 * loopback host, credentials in the URL, schemes other than http(s).
 */
export function checkedUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ControlPlaneError('invalid-url', 'the control-plane URL is not a valid absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ControlPlaneError('invalid-url', `the control-plane URL must be https (got ${url.protocol})`);
  }
  if (url.username || url.password) {
    throw new ControlPlaneError(
      'invalid-url',
      'the control-plane URL must not carry credentials; pass the key with --push-api-key or AGENT_BOM_PUSH_API_KEY',
    );
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new ControlPlaneError(
      'insecure-url',
      `refusing to send the API key over plain http to ${url.hostname}: use https ` +
        '(http is allowed only for loopback hosts: localhost, 127.0.0.0/8, ::1)',
    );
  }
  url.hash = '';
  return url;
}

/** `--push-url`: a URL without a path gets `/v1/fleet/sync`; one with a path is used as given. */
export function resolvePushUrl(raw: string, defaultPath = FLEET_SYNC_PATH): URL {
  const url = checkedUrl(raw);
  if (url.pathname === '' || url.pathname === '/') url.pathname = defaultPath;
  return url;
}

/** A URL safe to print: no userinfo, query or fragment. */
export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
