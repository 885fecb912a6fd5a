/** How the gateway speaks to an upstream: streamable HTTP (`POST`/`GET`/`DELETE` on one URL) or legacy SSE. */
export type UpstreamTransport = 'streamable-http' | 'sse';

/**
 * One routable upstream, keyed by (tenant, name). Credential values live only inside `authHeaders`, a closure
 * over the environment variable read at load: they are not a field, so no log line, health answer or
 * `JSON.stringify` of an upstream can carry them.
 */
export interface Upstream {
  readonly tenant: string;
  readonly name: string;
  readonly url: URL;
  readonly transport: UpstreamTransport;
  readonly source: 'discovery' | 'overlay';
  /** `none`, `bearer` or `header`, and the names (never values) of the variable and header. */
  readonly auth: { kind: 'none' | 'bearer' | 'header'; tokenEnv?: string; headerName?: string };
  authHeaders(): Record<string, string>;
}

const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

export function upstreamWithoutCredentials(
  fields: Omit<Upstream, 'authHeaders' | 'auth'> & { auth?: Upstream['auth'] },
): Upstream {
  return { auth: { kind: 'none' }, ...fields, authHeaders: () => NO_HEADERS };
}

/** Discovery says `http`, `https` or `sse`; an overlay may say so, or we read the URL (`…/sse` is legacy). */
export function transportOf(declared: string | undefined, url: URL): UpstreamTransport {
  if (declared === 'sse') return 'sse';
  if (declared === 'http' || declared === 'https' || declared === 'streamable-http') return 'streamable-http';
  return /\/sse\/?$/.test(url.pathname) ? 'sse' : 'streamable-http';
}

/** Route-safe upstream names: all discovery hands out (`jira`, `jira-1`, `My-Server`) and what an overlay may name. */
export { UPSTREAM_NAME, UPSTREAM_NAME_RULE } from '../../../../libs/contracts/src/index.js';
