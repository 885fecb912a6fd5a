import type {
  AuditIngestRequest,
  AuditIngestResult,
  DiscoveryAnswer,
  GatewayOidcAnswer,
  GatewaySubjectQuery,
  GatewaySubjectStanding,
  IntrospectionAnswer,
  MeView,
} from '../../../../libs/contracts/src/index.js';
import { ControlPlaneClient } from '../../../../libs/control-plane-client/src/index.js';
import type { BundleFetcher } from '../../../../libs/runtime/src/index.js';

export type {
  DiscoveredUpstream,
  DiscoveryAnswer,
  IntrospectionAnswer,
} from '../../../../libs/contracts/src/index.js';

const KEY_HINT = 'check --control-plane-token / AGENT_BOM_CONTROL_PLANE_TOKEN (a gateway key of the tenant)';

/**
 * The gateway's link to the control plane for one tenant, through that tenant's gateway key. Every call the
 * gateway makes on behalf of a tenant goes through that tenant's link, so the control plane scopes it by the
 * key: discovery, introspection of client keys, policy bundles and audit all stay inside the tenant.
 */
export class ControlPlaneLink {
  /** Known after the first discovery (the control plane says whose key this is). */
  tenant?: string;
  /** Outcome of the last call: what /healthz reports. */
  reachable = false;
  private readonly client: ControlPlaneClient;
  /** Introspection is on the request path: fewer retries, shorter timeouts. */
  private readonly fast: ControlPlaneClient;

  constructor(baseUrl: string, token: string, userAgent: string) {
    const common = { baseUrl, apiKey: token, userAgent, keyHint: KEY_HINT };
    this.client = new ControlPlaneClient({
      ...common,
      maxAttempts: 3,
      maxTotalMs: 15_000,
      baseDelayMs: 250,
      maxDelayMs: 2_000,
      requestTimeoutMs: 10_000,
    });
    this.fast = new ControlPlaneClient({
      ...common,
      maxAttempts: 2,
      maxTotalMs: 5_000,
      baseDelayMs: 100,
      maxDelayMs: 500,
      requestTimeoutMs: 4_000,
    });
  }

  discover(): Promise<DiscoveryAnswer> {
    return this.track(async () => {
      const { body } = await this.client.getJson<DiscoveryAnswer>('/v1/gateway/upstreams/discovered', {
        forbiddenHint:
          'the control-plane token cannot read discovery (it needs discovery:read: a gateway key)',
      });
      if (!body || typeof body.tenant_id !== 'string' || !Array.isArray(body.upstreams)) {
        throw new Error('the control plane answered discovery without {tenant_id, upstreams}');
      }
      this.tenant = body.tenant_id;
      return body;
    });
  }

  /** Who this link's key is (`GET /v1/auth/me`): the gateway checks the role before serving anyone. */
  whoAmI(): Promise<MeView> {
    return this.track(async () => {
      const { body } = await this.client.getJson<MeView>('/v1/auth/me');
      if (!body || typeof body.role !== 'string')
        throw new Error('the control plane answered /v1/auth/me without a role');
      return body;
    });
  }

  introspect(token: string): Promise<IntrospectionAnswer> {
    return this.track(async () => {
      const { body } = await this.fast.postJson<IntrospectionAnswer>(
        '/v1/auth/introspect',
        { token },
        {
          forbiddenHint:
            'the control-plane token cannot introspect keys (it needs keys:introspect: a gateway key)',
        },
      );
      return body && body.active === true && typeof body.tenant_id === 'string' ? body : { active: false };
    });
  }

  /**
   * SCIM's standing of an access token's person in this link's tenant (`POST /v1/gateway/oidc-subjects`); on the
   * request path, so through the fast client.
   */
  subjectStanding(query: GatewaySubjectQuery): Promise<GatewaySubjectStanding> {
    return this.track(async () => {
      const { body } = await this.fast.postJson<GatewaySubjectStanding>('/v1/gateway/oidc-subjects', query, {
        forbiddenHint:
          'the control-plane token cannot read SCIM standings (it needs keys:introspect: a gateway key)',
      });
      if (!body || typeof body.tenant_id !== 'string' || typeof body.tenant_uses_scim !== 'boolean') {
        throw new Error('the control plane answered oidc-subjects without {tenant_id, tenant_uses_scim}');
      }
      return body;
    });
  }

  /** The OIDC issuers whose access tokens this link's tenant accepts (`GET /v1/gateway/oidc-issuers`). */
  oidcIssuers(): Promise<GatewayOidcAnswer> {
    return this.track(async () => {
      const { body } = await this.client.getJson<GatewayOidcAnswer>('/v1/gateway/oidc-issuers');
      if (!body || typeof body.tenant_id !== 'string' || !Array.isArray(body.issuers)) {
        throw new Error('the control plane answered oidc-issuers without {tenant_id, issuers}');
      }
      return body;
    });
  }

  /** One audit batch; `json`, when given, is the batch's JSON text (`JSON.stringify(batch)`), sent as it is. */
  pushAudit(batch: AuditIngestRequest, idempotencyKey: string, json?: string): Promise<AuditIngestResult> {
    return this.track(
      async () =>
        (await this.fast.postJson<AuditIngestResult>('/v1/proxy/audit', batch, { idempotencyKey, json }))
          .body,
    );
  }

  /**
   * The policy bundle and its verification keys through this tenant's key (`libs/control-plane-client`), for the
   * shared bundle source; each call counts for `reachable`.
   */
  readonly policyBundles: BundleFetcher = {
    fetchPolicyBundle: (options) => this.track(() => this.client.fetchPolicyBundle(options)),
    fetchVerificationKeys: (options) => this.track(() => this.client.fetchVerificationKeys(options)),
  };

  private async track<T>(call: () => Promise<T>): Promise<T> {
    try {
      const result = await call();
      this.reachable = true;
      return result;
    } catch (error) {
      const kind = (error as { kind?: string }).kind;
      // An HTTP answer (even a refusal) proves the control plane is up; only network failures say it is not.
      this.reachable = kind !== 'network' && kind !== 'timeout' && kind !== 'server';
      throw error;
    }
  }
}
