import { Inject, Injectable } from '@nestjs/common';
import type { HumanRole, Role } from '../../../../libs/contracts/src/index.js';
import { APP_CONFIG, type AppConfig } from '../../../core/config/config.js';
import { OidcIssuersRepository } from '../oidc/oidc-issuers.repository.js';
import { isSessionRole } from '../sessions/session-roles.js';

const RANK: Record<string, number> = { 'platform-admin': 4, admin: 3, analyst: 2, viewer: 1 };

/**
 * Group membership → role for SCIM-provisioned people: the same group maps as logins use (the tenant's own issuer
 * binding, then the deployment-wide OIDC and SAML maps). Only roles a person may hold count.
 */
@Injectable()
export class ScimRoles {
  constructor(
    private readonly issuers: OidcIssuersRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async roleOf(tenantId: string, groupNames: string[]): Promise<HumanRole | 'platform-admin' | null> {
    if (groupNames.length === 0) return null;
    const binding = await this.issuers.find(tenantId);
    const maps: Array<Readonly<Record<string, Role>>> = [
      binding?.groupRoles ?? {},
      this.config.sso.oidc?.groupRoles ?? {},
      this.config.sso.saml?.groupRoles ?? {},
    ];
    let best: HumanRole | 'platform-admin' | null = null;
    for (const name of groupNames) {
      for (const map of maps) {
        const role = Object.hasOwn(map, name) ? map[name] : undefined;
        if (role && isSessionRole(role) && (!best || RANK[role] > RANK[best])) best = role;
      }
    }
    return best;
  }
}
