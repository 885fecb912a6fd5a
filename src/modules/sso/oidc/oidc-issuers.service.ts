import { Inject, Injectable } from '@nestjs/common';
import { isRole, type GatewayOidcAnswer, type Role } from '../../../../libs/contracts/src/index.js';
import type { Principal } from '../../../core/auth/principal.js';
import { APP_CONFIG, type AppConfig } from '../../../core/config/config.js';
import { idpUrl } from '../../../core/config/sso-config.js';
import { Transactions } from '../../../core/database/transactions.js';
import { conflict, invalid, notFound } from '../../../core/errors/domain-error.js';
import { AuditService } from '../../audit/audit.service.js';
import type { BindOidcIssuerDto } from '../dto/oidc-issuer.dto.js';
import { IssuerIndex } from './issuer-index.js';
import { OidcBearerResolver } from './oidc-bearer.resolver.js';
import { OidcIssuersRepository, type OidcBindingRow } from './oidc-issuers.repository.js';

export interface OidcIssuerView {
  tenant_id: string;
  issuer: string;
  audience: string;
  jwks_uri: string | null;
  tenant_claim: string;
  role_claim: string;
  groups_claim: string;
  group_roles: Record<string, Role>;
  updated_at: string;
  updated_by: string;
}

const view = (row: OidcBindingRow): OidcIssuerView => ({
  tenant_id: row.tenantId,
  issuer: row.issuer,
  audience: row.audience,
  jwks_uri: row.jwksUri,
  tenant_claim: row.tenantClaim,
  role_claim: row.roleClaim,
  groups_claim: row.groupsClaim,
  group_roles: row.groupRoles,
  updated_at: row.updatedAt.toISOString(),
  updated_by: row.updatedBy,
});

/**
 * Binds a tenant to its own OIDC issuer (platform admins only). Guarantees: one issuer serves at most one tenant,
 * and never the deployment-wide one; a change applies on this replica at once and on others within 10 s; every
 * change is audited in the platform admin's tenant, naming the target tenant.
 */
@Injectable()
export class OidcIssuersService {
  constructor(
    private readonly repository: OidcIssuersRepository,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    private readonly index: IssuerIndex,
    private readonly bearer: OidcBearerResolver,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async get(_principal: Principal, tenantId: string): Promise<OidcIssuerView> {
    const row = await this.repository.find(tenantId);
    if (!row) throw notFound('OIDC issuer binding');
    return view(row);
  }

  /**
   * The issuers a gateway of the principal's tenant may accept tokens of: the tenant's own issuer alone, else the
   * deployment-wide one (whose tokens must then name the tenant), else none.
   */
  async forGateway(principal: Principal): Promise<GatewayOidcAnswer> {
    const own = await this.repository.find(principal.tenantId);
    if (own) {
      return {
        tenant_id: principal.tenantId,
        issuers: [
          {
            issuer: own.issuer,
            jwks_uri: own.jwksUri,
            bound: true,
            tenant_claim: own.tenantClaim,
            role_claim: own.roleClaim,
            groups_claim: own.groupsClaim,
            group_roles: own.groupRoles,
          },
        ],
      };
    }
    const global = this.config.sso.oidc;
    return {
      tenant_id: principal.tenantId,
      issuers: global
        ? [
            {
              issuer: global.issuer,
              jwks_uri: global.jwksUri ?? null,
              bound: false,
              tenant_claim: global.tenantClaim,
              role_claim: global.roleClaim,
              groups_claim: global.groupsClaim,
              group_roles: { ...global.groupRoles },
            },
          ]
        : [],
    };
  }

  async bind(principal: Principal, tenantId: string, body: BindOidcIssuerDto): Promise<OidcIssuerView> {
    if (!idpUrl.safeParse(body.issuer).success) invalidUrl('issuer');
    if (body.jwks_uri !== undefined && !idpUrl.safeParse(body.jwks_uri).success) invalidUrl('jwks_uri');
    const groupRoles = body.group_roles ?? {};
    const entries = Object.entries(groupRoles);
    if (entries.length > 500) throw invalid('group_roles', 'has more than 500 groups');
    for (const [group, role] of entries) {
      if (group.length === 0 || group.length > 256)
        throw invalid('group_roles', 'group names are 1-256 characters');
      if (!isRole(role)) throw invalid(`group_roles.${group.slice(0, 64)}`, 'must be a role');
    }
    if (this.config.sso.oidc?.issuer === body.issuer) {
      throw conflict(
        'this issuer is the deployment-wide AGENT_BOM_OIDC_ISSUER and cannot be bound to one tenant',
      );
    }
    if (!(await this.repository.tenantExists(tenantId))) throw notFound('tenant');
    const previous = await this.repository.find(tenantId);
    await this.transactions.run(async (tx) => {
      const result = await this.repository.upsert(
        tenantId,
        {
          issuer: body.issuer,
          audience: body.audience,
          jwksUri: body.jwks_uri ?? null,
          tenantClaim: body.tenant_claim ?? 'tenant_id',
          roleClaim: body.role_claim ?? 'agent_bom_role',
          groupsClaim: body.groups_claim ?? 'groups',
          groupRoles,
          updatedBy: principal.subject,
        },
        tx,
      );
      if (result === 'issuer_taken') throw conflict('this issuer is already bound to another tenant');
      await this.audit.record(
        principal,
        {
          type: 'sso.oidc_issuer_bound',
          resource_type: 'tenant',
          resource_id: tenantId,
          details: {
            issuer: body.issuer,
            audience: body.audience,
            groups_mapped: entries.length,
            privileged_groups: entries.filter(([, r]) => r === 'platform-admin').map(([g]) => g),
          },
        },
        tx,
      );
    });
    this.changed(previous?.issuer, body.issuer);
    return this.get(principal, tenantId);
  }

  async unbind(principal: Principal, tenantId: string): Promise<void> {
    const previous = await this.repository.find(tenantId);
    if (!previous) throw notFound('OIDC issuer binding');
    await this.transactions.run(async (tx) => {
      if (!(await this.repository.delete(tenantId, tx))) throw notFound('OIDC issuer binding');
      await this.audit.record(
        principal,
        {
          type: 'sso.oidc_issuer_unbound',
          resource_type: 'tenant',
          resource_id: tenantId,
          details: { issuer: previous.issuer },
        },
        tx,
      );
    });
    this.changed(previous.issuer);
  }

  private changed(...issuers: Array<string | undefined>): void {
    this.index.invalidate();
    this.bearer.forgetVerified();
    for (const issuer of issuers) if (issuer) this.bearer.verifier.forget(issuer);
  }
}

function invalidUrl(field: string): never {
  throw invalid(field, 'must be an https:// URL (http:// only on a loopback host)');
}
