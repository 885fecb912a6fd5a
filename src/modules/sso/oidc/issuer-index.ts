import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ClaimMapping, IssuerTrust } from '../../../../libs/oidc/src/index.js';
import { APP_CONFIG, type AppConfig } from '../../../core/config/config.js';
import { OidcIssuersRepository, type OidcBindingRow } from './oidc-issuers.repository.js';

export interface TrustedIssuer {
  trust: IssuerTrust;
  mapping: ClaimMapping;
}

/** How long this replica trusts its copy of the bindings before re-reading them. */
const REFRESH_MS = 10_000;

/**
 * Which issuers are trusted, and how each maps to tenants: the deployment-wide issuer from the environment, and the
 * tenant-bound issuers from the database. Read from memory on the request path; re-read every 10 s and at once on
 * this replica after a change, so a new or removed binding applies on other replicas within 10 s.
 */
@Injectable()
export class IssuerIndex {
  private readonly logger = new Logger(IssuerIndex.name);
  private byIssuer = new Map<string, TrustedIssuer>();
  private boundTenants = new Set<string>();
  private loadedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly repository: OidcIssuersRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Whether any OIDC issuer could be trusted at all (so a JWT without one is refused quickly). */
  async lookup(issuer: string): Promise<TrustedIssuer | undefined> {
    await this.fresh();
    return this.byIssuer.get(issuer);
  }

  /** Synchronous view for the verifier (call {@link lookup} first on the request path). */
  get(issuer: string): TrustedIssuer | undefined {
    return this.byIssuer.get(issuer);
  }

  /** A tenant with its own issuer cannot be minted by the deployment-wide issuer. */
  async hasOwnIssuer(tenantId: string): Promise<boolean> {
    await this.fresh();
    return this.boundTenants.has(tenantId);
  }

  invalidate(): void {
    this.loadedAt = 0;
  }

  private async fresh(): Promise<void> {
    if (Date.now() - this.loadedAt < REFRESH_MS) return;
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    await this.loading;
  }

  private async load(): Promise<void> {
    const started = Date.now();
    let rows: OidcBindingRow[];
    try {
      rows = await this.repository.all();
    } catch (error) {
      // Keep the last good view rather than failing every token while the database blips.
      this.logger.warn(`could not read OIDC issuer bindings: ${String(error)}`);
      if (this.loadedAt === 0) throw error;
      return;
    }
    const next = new Map<string, TrustedIssuer>();
    const global = this.config.sso.oidc;
    if (global) {
      next.set(global.issuer, {
        trust: { issuer: global.issuer, audience: global.audience, jwksUri: global.jwksUri },
        mapping: {
          tenantClaim: global.tenantClaim,
          roleClaim: global.roleClaim,
          groupsClaim: global.groupsClaim,
          groupRoles: global.groupRoles,
        },
      });
    }
    for (const row of rows) {
      if (next.has(row.issuer)) continue; // the API refuses this; the deployment-wide issuer wins
      next.set(row.issuer, {
        trust: { issuer: row.issuer, audience: row.audience, jwksUri: row.jwksUri ?? undefined },
        mapping: {
          tenantClaim: row.tenantClaim,
          roleClaim: row.roleClaim,
          groupsClaim: row.groupsClaim,
          groupRoles: row.groupRoles,
          boundTenant: row.tenantId,
        },
      });
    }
    this.byIssuer = next;
    this.boundTenants = new Set(rows.map((r) => r.tenantId));
    this.loadedAt = started;
  }
}
