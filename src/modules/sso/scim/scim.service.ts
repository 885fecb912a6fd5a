import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { GatewaySubjectStanding, HumanRole } from '../../../../libs/contracts/src/index.js';
import type { Principal } from '../../../core/auth/principal.js';
import { secretHash } from '../../../core/auth/secret-hash.js';
import { Transactions, type Tx } from '../../../core/database/transactions.js';
import { conflict, invalid, notFound } from '../../../core/errors/domain-error.js';
import { AuditService } from '../../audit/audit.service.js';
import { OidcBearerResolver } from '../oidc/oidc-bearer.resolver.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { ScimRoles } from './scim-roles.js';
import { booleanOf, eqFilter, pageOf, patchOf, userFieldsOf } from './scim-input.js';
import { listResponse, userResource } from './scim.mapper.js';
import { ScimRepository, type ScimUserRow } from './scim.repository.js';

const TOKEN_PREFIX = 'scim_';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * SCIM 2.0 tokens and Users for one tenant (the SCIM token's; Groups in {@link ScimGroupsService}). Guarantees: the
 * tenant comes only from the token; deactivating or deleting a user ends all of their sessions in the same
 * transaction; once a change that can alter someone's standing (created, activated or deactivated, renamed, deleted)
 * commits, this replica drops the tenant's cached OIDC bearer checks; every change is audited.
 */
@Injectable()
export class ScimService {
  constructor(
    private readonly scim: ScimRepository,
    private readonly roles: ScimRoles,
    private readonly sessions: SessionsService,
    private readonly bearer: OidcBearerResolver,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
  ) {}

  // --- token (tenant admins, /v1) ---

  async createToken(principal: Principal): Promise<{ token: string }> {
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    await this.transactions.run(async (tx) => {
      await this.scim.setToken(principal.tenantId, secretHash(token), principal.subject, tx);
      await this.audit.record(principal, { type: 'scim.token_created', resource_type: 'scim_token' }, tx);
    });
    return { token };
  }

  async revokeToken(principal: Principal): Promise<void> {
    await this.transactions.run(async (tx) => {
      if (!(await this.scim.deleteToken(principal.tenantId, tx))) throw notFound('SCIM token');
      await this.audit.record(principal, { type: 'scim.token_revoked', resource_type: 'scim_token' }, tx);
    });
  }

  /** The SCIM principal for a presented token, or undefined. */
  async resolveToken(token: string): Promise<Principal | undefined> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length !== TOKEN_PREFIX.length + 43) return undefined;
    const tenantId = await this.scim.tenantOfToken(secretHash(token));
    return tenantId
      ? { tenantId, role: 'viewer', subject: 'scim', authMethod: 'scim', keyId: null }
      : undefined;
  }

  // --- logins ---

  /**
   * What SCIM says about a person logging in: refused when every matching user is inactive; otherwise the role
   * their groups map to (or the login's own role) and the user id the session is tied to.
   */
  async atLogin(
    tenantId: string,
    subject: string,
    sub: string | undefined,
    role: HumanRole | 'platform-admin',
  ): Promise<{ role: HumanRole | 'platform-admin'; userId: string | null } | 'deactivated'> {
    const user = await this.scim.userForSubject(tenantId, subject, sub ?? null);
    if (!user) return { role, userId: null };
    if (!user.active) return 'deactivated';
    const groups = await this.scim.groupsOfUser(tenantId, user.id);
    const mapped = await this.roles.roleOf(
      tenantId,
      groups.map((g) => g.display_name),
    );
    return { role: mapped ?? role, userId: user.id };
  }

  /** SCIM's standing of an access token's person, for the gateway key's own tenant (the gateway decides with it). */
  async standingForGateway(
    principal: Principal,
    subject: string,
    sub: string | null,
  ): Promise<GatewaySubjectStanding> {
    const standing = await this.scim.standingOf(principal.tenantId, subject, sub);
    return {
      tenant_id: principal.tenantId,
      tenant_uses_scim: standing.tenant_uses_scim,
      active: standing.active,
      deleted_at: standing.deleted_at ? new Date(standing.deleted_at).toISOString() : null,
    };
  }

  // --- Users ---

  async createUser(principal: Principal, body: unknown) {
    const fields = userFieldsOf(body);
    const resource = await this.transactions.run(async (tx) => {
      const row = await this.scim.insertUser(principal.tenantId, fields, tx);
      if (row === 'taken') throw conflict('userName is already provisioned in this tenant');
      await this.record(
        principal,
        'scim.user_created',
        row.id,
        { user_name: row.user_name, active: row.active },
        tx,
      );
      return userResource(row, []);
    });
    this.bearer.forgetTenant(principal.tenantId);
    return resource;
  }

  async getUser(principal: Principal, id: string) {
    const row = await this.userOr404(principal.tenantId, id);
    return userResource(row, await this.scim.groupsOfUser(principal.tenantId, id));
  }

  async listUsers(principal: Principal, query: Record<string, unknown>) {
    const filter = eqFilter(query.filter, {
      userName: 'user_name' as const,
      externalId: 'external_id' as const,
    });
    const page = pageOf(query.startIndex, query.count);
    const { rows, total } = await this.scim.listUsers(principal.tenantId, filter, page.offset, page.limit);
    const resources = await Promise.all(
      rows.map(async (row) => userResource(row, await this.scim.groupsOfUser(principal.tenantId, row.id))),
    );
    return listResponse(resources, total, page.startIndex);
  }

  async replaceUser(principal: Principal, id: string, body: unknown) {
    return this.saveUser(principal, id, () => userFieldsOf(body));
  }

  async patchUser(principal: Principal, id: string, body: unknown) {
    const operations = patchOf(body);
    return this.saveUser(principal, id, (current) => {
      const next = { ...current };
      for (const op of operations) {
        const values: Record<string, unknown> =
          op.path === undefined && op.value && typeof op.value === 'object'
            ? (op.value as Record<string, unknown>)
            : { [op.path ?? '']: op.value };
        for (const [path, value] of Object.entries(values)) {
          const field = path.toLowerCase();
          if (field === 'active') next.active = op.op === 'remove' ? false : booleanOf(value, 'active');
          else if (field === 'username' && typeof value === 'string')
            next.user_name = value.trim().slice(0, 320);
          else if (field === 'displayname')
            next.display_name = typeof value === 'string' ? value.slice(0, 256) : null;
          else if (field === 'externalid')
            next.external_id = typeof value === 'string' ? value.slice(0, 256) : null;
          else if (field.startsWith('emails')) {
            const email = Array.isArray(value) ? (value[0] as { value?: unknown })?.value : value;
            next.email = typeof email === 'string' ? email.slice(0, 320) : null;
          }
          // Other attributes (name.*, title, …) are not kept: accepted and ignored, as RFC 7644 allows.
        }
      }
      if (!next.user_name) throw invalid('userName', 'must not be empty');
      return next;
    });
  }

  async deleteUser(principal: Principal, id: string): Promise<void> {
    await this.transactions.run(async (tx) => {
      const user = await this.userOr404(principal.tenantId, id, tx);
      const ended = await this.sessions.revokeForUser(principal.tenantId, id, 'scim', tx);
      await this.scim.deleteUser(principal.tenantId, id, tx);
      await this.record(
        principal,
        'scim.user_deleted',
        id,
        { user_name: user.user_name, sessions_ended: ended },
        tx,
      );
    });
    this.bearer.forgetTenant(principal.tenantId);
  }

  private async saveUser(
    principal: Principal,
    id: string,
    change: (current: ScimUserRow) => ReturnType<typeof userFieldsOf>,
  ) {
    let standingChanged = false;
    const resource = await this.transactions.run(async (tx) => {
      const current = await this.userOr404(principal.tenantId, id, tx);
      const fields = change(current);
      const row = await this.scim.updateUser(principal.tenantId, id, fields, tx);
      if (row === 'taken') throw conflict('userName is already provisioned in this tenant');
      if (!row) throw notFound('User');
      const deactivated = current.active && !row.active;
      standingChanged =
        current.active !== row.active || current.user_name !== row.user_name || current.email !== row.email;
      const ended = deactivated ? await this.sessions.revokeForUser(principal.tenantId, id, 'scim', tx) : 0;
      const type = deactivated ? 'scim.user_deactivated' : 'scim.user_updated';
      await this.record(
        principal,
        type,
        id,
        { user_name: row.user_name, active: row.active, sessions_ended: ended },
        tx,
      );
      return userResource(row, await this.scim.groupsOfUser(principal.tenantId, id, tx));
    });
    if (standingChanged) this.bearer.forgetTenant(principal.tenantId);
    return resource;
  }

  private async userOr404(tenantId: string, id: string, tx?: Tx) {
    const row = UUID.test(id) ? await this.scim.user(tenantId, id, tx) : null;
    if (!row) throw notFound('User');
    return row;
  }

  /** Audits a SCIM change with the SCIM principal as actor. */
  async record(
    principal: Principal,
    type: string,
    id: string,
    details: Record<string, string | number | boolean>,
    tx: Tx,
  ): Promise<void> {
    await this.audit.record(
      principal,
      { type, resource_type: type.includes('group') ? 'scim_group' : 'scim_user', resource_id: id, details },
      tx,
    );
  }
}
