import fs from 'node:fs/promises';
import { parse } from 'yaml';
import { ConfigError } from '../config/config.js';
import { transportOf, UPSTREAM_NAME, UPSTREAM_NAME_RULE, type Upstream } from './upstream.js';

const FIELDS = new Set(['name', 'url', 'auth', 'token_env', 'header_name', 'tenant', 'transport']);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;
/** Headers an overlay may not set: they belong to the relay (framing, routing, session, trace). */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'accept',
  'mcp-session-id',
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
  'traceparent',
  'tracestate',
]);

/** One overlay entry before it is bound to a tenant (the default tenant is known only after discovery). */
export interface OverlayEntry {
  name: string;
  tenant?: string;
  build(tenant: string): Upstream;
}

/**
 * Reads `upstreams: [{name, url, auth: none|bearer|header, token_env, header_name?, tenant?, transport?}]`.
 * Credentials come from the environment variable `token_env` only, read here once; a missing variable is a
 * configuration error that names the variable, never a value. Unknown fields are refused.
 */
export async function loadOverlay(file: string, env: NodeJS.ProcessEnv): Promise<OverlayEntry[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `--upstreams ${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new ConfigError(`--upstreams ${file}: not valid YAML (${(error as Error).message.split('\n')[0]})`);
  }
  return parseOverlay(doc, env, file);
}

export function parseOverlay(doc: unknown, env: NodeJS.ProcessEnv, file = 'overlay'): OverlayEntry[] {
  const fail = (where: string, message: string) =>
    new ConfigError(`--upstreams ${file}: ${where}: ${message}`);
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw fail('top level', 'expected {upstreams: [...]}');
  const top = doc as Record<string, unknown>;
  for (const key of Object.keys(top)) if (key !== 'upstreams') throw fail(key, 'unknown field');
  if (!Array.isArray(top.upstreams)) throw fail('upstreams', 'expected a list');
  const seen = new Set<string>();
  return top.upstreams.map((raw, index) => {
    const at = `upstreams.${index}`;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw fail(at, 'expected a mapping');
    const entry = raw as Record<string, unknown>;
    for (const key of Object.keys(entry)) if (!FIELDS.has(key)) throw fail(`${at}.${key}`, 'unknown field');
    const str = (key: string) => {
      const value = entry[key];
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'string' || !value.trim())
        throw fail(`${at}.${key}`, 'expected a non-empty string');
      return value.trim();
    };
    const name = str('name');
    if (!name || !UPSTREAM_NAME.test(name)) throw fail(`${at}.name`, `required; ${UPSTREAM_NAME_RULE}`);
    let url: URL;
    try {
      url = new URL(str('url') ?? '');
    } catch {
      throw fail(`${at}.url`, 'required: an absolute http(s) URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw fail(`${at}.url`, 'must be http or https');
    if (url.username || url.password)
      throw fail(`${at}.url`, 'must not carry credentials: use auth + token_env');
    url.hash = '';
    const transport = str('transport');
    if (transport && !['streamable-http', 'http', 'https', 'sse'].includes(transport)) {
      throw fail(`${at}.transport`, 'must be streamable-http or sse');
    }
    const tenant = str('tenant');
    const key = `${tenant ?? ''}\u0000${name}`;
    if (seen.has(key))
      throw fail(at, `upstream "${name}" is listed twice${tenant ? ` for tenant ${tenant}` : ''}`);
    seen.add(key);

    const kind = str('auth') ?? 'none';
    if (kind !== 'none' && kind !== 'bearer' && kind !== 'header') {
      throw fail(`${at}.auth`, 'must be none, bearer or header');
    }
    const tokenEnv = str('token_env');
    const headerName = str('header_name');
    let headers: Record<string, string> = {};
    if (kind === 'none') {
      if (tokenEnv || headerName) throw fail(at, 'token_env and header_name need auth: bearer or header');
    } else {
      if (!tokenEnv || !ENV_NAME.test(tokenEnv))
        throw fail(`${at}.token_env`, 'required: an environment variable name');
      const value = env[tokenEnv];
      if (!value) throw fail(`${at}.token_env`, `environment variable ${tokenEnv} is not set`);
      if (/[\r\n\0]/.test(value)) throw fail(`${at}.token_env`, `${tokenEnv} contains control characters`);
      if (kind === 'bearer') {
        if (headerName) throw fail(`${at}.header_name`, 'only with auth: header');
        headers = { authorization: `Bearer ${value}` };
      } else {
        if (!headerName || !HEADER_NAME.test(headerName) || RESERVED_HEADERS.has(headerName.toLowerCase())) {
          throw fail(
            `${at}.header_name`,
            'required with auth: header; a plain header name the relay does not own',
          );
        }
        headers = { [headerName.toLowerCase()]: value };
      }
    }
    const frozen = Object.freeze(headers);
    const auth = { kind: kind as 'none' | 'bearer' | 'header', tokenEnv, headerName };
    return {
      name,
      tenant,
      build: (boundTenant: string): Upstream => ({
        tenant: boundTenant,
        name,
        url,
        transport: transportOf(transport, url),
        source: 'overlay',
        auth,
        authHeaders: () => frozen,
      }),
    };
  });
}
