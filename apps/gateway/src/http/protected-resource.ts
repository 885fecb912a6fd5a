import type { FastifyInstance } from 'fastify';
import type { GatewayRuntime } from '../runtime.js';

/** Where RFC 9728 puts a protected resource's metadata. */
export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource';

/** The gateway's OAuth protected-resource identifier: every `/mcp/<upstream>` is part of it (one audience). */
export function resourceOf(publicUrl: string): string {
  return `${publicUrl}/mcp`;
}

/**
 * The path-suffixed metadata URL of {@link resourceOf} (RFC 9728 §3.1); with an upstream, that upstream's own
 * document (`…/mcp/<upstream>`, the URL a client derives from the server URL), named in its `WWW-Authenticate`.
 */
export function resourceMetadataUrlOf(publicUrl: string, upstream?: string): string {
  const base = `${publicUrl}${PROTECTED_RESOURCE_PATH}/mcp`;
  return upstream === undefined ? base : `${base}/${encodeURIComponent(upstream)}`;
}

/** The RFC 9728 document an MCP client reads to find the authorization servers (the tenants' IdPs). */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: ['header'];
  resource_name: string;
}

/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728), as the MCP authorization specification asks of HTTP servers.
 * These routes are PUBLIC by design: they are registered on the root server, outside the relay's authenticated
 * scope, because a client reads them before it has a token. They carry no secret and no upstream: only the
 * resource identifier and the issuers this gateway trusts. Served at the root form and the path-suffixed form for
 * `/mcp` (every served tenant's issuers), and for `/mcp/<upstream>` (what a 401 on that upstream names): only the
 * issuers of the tenants that have that upstream, so a client that logs in at the first issuer it reads goes to
 * the right IdP when tenants bring different ones (a name no tenant has gets the full list: it reaches nothing
 * anyway). All describe the one resource `<public URL>/mcp` (one audience for every upstream). Only a gateway that
 * accepts OIDC access tokens (a control plane and a public URL) serves them; otherwise they are 404.
 */
export function registerProtectedResourceMetadata(root: FastifyInstance, runtime: GatewayRuntime): void {
  const publicUrl = runtime.config.publicUrl;
  const oidc = runtime.oidc;
  if (!publicUrl || !oidc) return;
  const metadata = (issuers: string[]): ProtectedResourceMetadata => ({
    resource: resourceOf(publicUrl),
    authorization_servers: issuers,
    bearer_methods_supported: ['header'],
    resource_name: 'agent-bom gateway',
  });
  const handler = async () => metadata(oidc.issuers);
  const upstreamHandler = async (request: { params: unknown }) => {
    const tenants = runtime.registry.tenantsOf((request.params as { upstream: string }).upstream);
    return metadata(tenants.length ? oidc.issuersOf(tenants) : oidc.issuers);
  };
  const options = {
    onSend: async (_request: unknown, reply: { header(name: string, value: string): unknown }) => {
      reply.header('cache-control', 'public, max-age=60');
    },
  };
  root.get(PROTECTED_RESOURCE_PATH, options, handler);
  root.get(`${PROTECTED_RESOURCE_PATH}/mcp`, options, handler);
  root.get(`${PROTECTED_RESOURCE_PATH}/mcp/:upstream`, options, upstreamHandler);
}
