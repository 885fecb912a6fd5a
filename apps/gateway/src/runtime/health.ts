import type { Authenticator } from '../auth/authenticator.js';
import type { GatewayConfig } from '../config/config.js';
import type { ControlPlaneLink } from '../control-plane/control-plane-link.js';
import type { LoadedPolicy } from '../policy/loaded-policy.js';
import type { FilePolicy } from '../policy/policy-store.js';
import type { RateLimiter } from '../rate-limit/rate-limiter.js';
import type { UpstreamRegistry } from '../upstreams/registry.js';
import type { Tenants } from './tenants.js';

/** What the `/healthz` view reads; every field is the live object, read at each call. */
export interface HealthSources {
  readonly config: GatewayConfig;
  readonly registry: UpstreamRegistry;
  readonly tenants: Tenants;
  readonly links: readonly ControlPlaneLink[];
  readonly authenticator: () => Authenticator;
  /** Whether OIDC access tokens are accepted. */
  readonly oidc: () => boolean;
  readonly limiter: () => RateLimiter | undefined;
  readonly filePolicy: () => FilePolicy | undefined;
}

/**
 * The seed's `/healthz` body. It is unauthenticated, so it never names one tenant's upstreams (or tenant ids)
 * to a caller outside that tenant: a caller with a valid credential sees its own tenant's upstreams; an
 * anonymous caller sees them only when this gateway serves a single tenant.
 */
export function healthView(sources: HealthSources, viewer?: string) {
  const { config, registry, tenants, links } = sources;
  const limiter = sources.limiter();
  const filePolicy = sources.filePolicy();
  const visible = viewer ?? (tenants.size === 1 ? tenants.names()[0] : undefined);
  const policies = [filePolicy?.current, ...[...tenants.values()].map((t) => t.bundle?.current)].filter(
    (p): p is LoadedPolicy => Boolean(p),
  );
  const rl = config.rateLimit;
  return {
    status: 'ok',
    upstreams: [
      ...new Set(
        registry
          .all()
          .filter((u) => u.tenant === visible)
          .map((u) => u.name),
      ),
    ].sort(),
    auth: {
      incoming_token_required: sources.authenticator().required,
      methods: [
        ...(config.bearerToken ? ['bearer_token'] : []),
        ...(links.length ? ['api_key'] : []),
        ...(sources.oidc() ? ['oidc'] : []),
      ],
    },
    rate_limit: {
      backend: limiter ? limiter.backend : 'disabled',
      limit: rl.perTenant?.text ?? null,
      per_tool_limit: rl.perTool?.text ?? null,
      shared_across_replicas: limiter?.backend === 'postgres',
    },
    policy: {
      source: policies.length ? [...new Set(policies.map((p) => p.source))].join(' + ') : null,
      version: policies.length ? policies.map((p) => p.version).join(' + ') : null,
      file: filePolicy
        ? {
            path: filePolicy.path,
            version: filePolicy.current.version,
            loaded_at: filePolicy.current.loadedAt,
            last_error: filePolicy.lastError,
          }
        : null,
      bundle: config.policyBundle
        ? [...tenants.values()]
            .filter((t) => t.bundle && (visible === undefined || t.tenant === visible))
            .map((t) => ({
              ...(visible === undefined ? {} : { tenant: t.tenant }),
              version: t.bundle!.current?.version ?? null,
              available: t.bundle!.available,
              last_error: t.bundle!.lastError,
            }))
        : null,
    },
    control_plane: links.length
      ? {
          configured: true,
          reachable: links.every((l) => l.reachable),
          url: config.controlPlane!.display,
        }
      : { configured: false, reachable: false },
  };
}
