import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { HumanRole } from '../../../../libs/contracts/src/index.js';
import type { Principal } from '../../../core/auth/principal.js';
import { Transactions, type Tx } from '../../../core/database/transactions.js';
import { conflict, invalid, notFound } from '../../../core/errors/domain-error.js';
import { AuditService } from '../../audit/audit.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { ScimRoles } from './scim-roles.js';
import { booleanOf, eqFilter, groupOf, pageOf, patchOf, userFieldsOf } from './scim-input.js';
import { groupResource, listResponse, userResource } from './scim.mapper.js';
import { ScimRepository, type ScimUserRow } from './scim.repository.js';

const TOKEN_PREFIX = 'scim_';
const hash = (token: string) => createHash('sha256').update(token).digest('hex');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * SCIM 2.0 Users and Groups for one tenant (the SCIM token's). Guarantees: the tenant comes only from the token;
 * deactivating or deleting a user ends all of their sessions in the same transaction; a membership change that
 * changes a person's role ends their sessions (the next login carries the new role); every change is audited.
 */
@Injectable()
export class ScimService {
  constructor(
    private readonly scim: ScimRepository,
    private readonly roles: ScimRoles,
    private readonly sessions: SessionsService,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
  ) {}

  // --- token (tenant admins, /v1) ---

  async createToken(principal: Principal): Promise<{ token: string }> {
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    await this.transactions.run(async (tx) => {
      await this.scim.setToken(principal.tenantId, hash(token), principal.subject, tx);
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
    const tenantId = await this.scim.tenantOfToken(hash(token));
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
    role: HumanRole | 'platform-admin',
  ): Promise<{ role: HumanRole | 'platform-admin'; userId: string | null } | 'deactivated'> {
    const user = await this.scim.userForSubject(tenantId, subject);
    if (!user) return { role, userId: null };
    if (!user.active) return 'deactivated';
    const groups = await this.scim.groupsOfUser(tenantId, user.id);
    const mapped = await this.roles.roleOf(
      tenantId,
      groups.map((g) => g.display_name),
    );
    return { role: mapped ?? role, userId: user.id };
  }

  // --- Users ---

  async createUser(principal: Principal, body: unknown) {
    const fields = userFieldsOf(body);
    return this.transactions.run(async (tx) => {
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
  }

  private async saveUser(
    principal: Principal,
    id: string,
    change: (current: ScimUserRow) => ReturnType<typeof userFieldsOf>,
  ) {
    return this.transactions.run(async (tx) => {
      const current = await this.userOr404(principal.tenantId, id, tx);
      const fields = change(current);
      const row = await this.scim.updateUser(principal.tenantId, id, fields, tx);
      if (row === 'taken') throw conflict('userName is already provisioned in this tenant');
      if (!row) throw notFound('User');
      let ended = 0;
      if (current.active && !row.active)
        ended = await this.sessions.revokeForUser(principal.tenantId, id, 'scim', tx);
      const type = current.active && !row.active ? 'scim.user_deactivated' : 'scim.user_updated';
      await this.record(
        principal,
        type,
        id,
        { user_name: row.user_name, active: row.active, sessions_ended: ended },
        tx,
      );
      return userResource(row, await this.scim.groupsOfUser(principal.tenantId, id, tx));
    });
  }

  // --- Groups ---

  async createGroup(principal: Principal, body: unknown) {
    const group = groupOf(body);
    return this.transactions.run(async (tx) => {
      const row = await this.scim.insertGroup(
        principal.tenantId,
        { display_name: group.displayName, external_id: group.externalId ?? null },
        tx,
      );
      if (row === 'taken') throw conflict('displayName is already a group in this tenant');
      const members = (group.members ?? []).map((m) => m.value);
      await this.changeMembers(principal, row.id, tx, async () => {
        const missing = await this.scim.addMembers(principal.tenantId, row.id, members, tx);
        if (missing.length > 0) throw invalid('members', 'name users of this tenant');
      });
      await this.record(
        principal,
        'scim.group_created',
        row.id,
        { display_name: row.display_name, members: members.length },
        tx,
      );
      return groupResource(row, await this.scim.members(principal.tenantId, row.id, tx));
    });
  }

  async getGroup(principal: Principal, id: string) {
    const row = await this.groupOr404(principal.tenantId, id);
    return groupResource(row, await this.scim.members(principal.tenantId, id));
  }

  async listGroups(principal: Principal, query: Record<string, unknown>) {
    const filter = eqFilter(query.filter, {
      displayName: 'display_name' as const,
      externalId: 'external_id' as const,
    });
    const page = pageOf(query.startIndex, query.count);
    const { rows, total } = await this.scim.listGroups(principal.tenantId, filter, page.offset, page.limit);
    const resources = await Promise.all(
      rows.map(async (row) => groupResource(row, await this.scim.members(principal.tenantId, row.id))),
    );
    return listResponse(resources, total, page.startIndex);
  }

  async replaceGroup(principal: Principal, id: string, body: unknown) {
    const group = groupOf(body);
    return this.transactions.run(async (tx) => {
      await this.groupOr404(principal.tenantId, id, tx);
      const row = await this.scim.updateGroup(
        principal.tenantId,
        id,
        { display_name: group.displayName, external_id: group.externalId ?? null },
        tx,
      );
      if (row === 'taken') throw conflict('displayName is already a group in this tenant');
      if (!row) throw notFound('Group');
      await this.changeMembers(principal, id, tx, async () => {
        await this.scim.removeMembers(principal.tenantId, id, 'all', tx);
        const missing = await this.scim.addMembers(
          principal.tenantId,
          id,
          (group.members ?? []).map((m) => m.value),
          tx,
        );
        if (missing.length > 0) throw invalid('members', 'name users of this tenant');
      });
      await this.record(principal, 'scim.group_updated', id, { display_name: row.display_name }, tx);
      return groupResource(row, await this.scim.members(principal.tenantId, id, tx));
    });
  }

  async patchGroup(principal: Principal, id: string, body: unknown) {
    const operations = patchOf(body);
    return this.transactions.run(async (tx) => {
      let row = await this.groupOr404(principal.tenantId, id, tx);
      await this.changeMembers(principal, id, tx, async () => {
        for (const op of operations) {
          const path = (op.path ?? '').trim();
          if (/^members$/i.test(path) || (path === '' && op.op !== 'replace')) {
            const ids = memberIds(op.value);
            if (op.op === 'remove')
              await this.scim.removeMembers(principal.tenantId, id, ids.length ? ids : 'all', tx);
            else {
              if (op.op === 'replace') await this.scim.removeMembers(principal.tenantId, id, 'all', tx);
              const missing = await this.scim.addMembers(principal.tenantId, id, ids, tx);
              if (missing.length > 0) throw invalid('members', 'name users of this tenant');
            }
            continue;
          }
          const removal = /^members\[value eq "([0-9a-f-]{36})"\]$/i.exec(path);
          if (removal && op.op === 'remove') {
            await this.scim.removeMembers(principal.tenantId, id, [removal[1]], tx);
            continue;
          }
          const value = /^displayName$/i.test(path)
            ? op.value
            : path === '' && op.value && typeof op.value === 'object'
              ? (op.value as { displayName?: unknown }).displayName
              : undefined;
          if (typeof value === 'string' && value.trim()) {
            const updated = await this.scim.updateGroup(
              principal.tenantId,
              id,
              { display_name: value.trim().slice(0, 256), external_id: row.external_id },
              tx,
            );
            if (updated === 'taken') throw conflict('displayName is already a group in this tenant');
            if (updated) row = updated;
            continue;
          }
          throw invalid('Operations', `unsupported operation: ${op.op} ${path.slice(0, 64)}`);
        }
      });
      await this.record(
        principal,
        'scim.group_updated',
        id,
        { display_name: row.display_name, operations: operations.length },
        tx,
      );
      return groupResource(row, await this.scim.members(principal.tenantId, id, tx));
    });
  }

  async deleteGroup(principal: Principal, id: string): Promise<void> {
    await this.transactions.run(async (tx) => {
      const row = await this.groupOr404(principal.tenantId, id, tx);
      await this.changeMembers(principal, id, tx, async () => {
        await this.scim.deleteGroup(principal.tenantId, id, tx);
      });
      await this.record(principal, 'scim.group_deleted', id, { display_name: row.display_name }, tx);
    });
  }

  /**
   * Runs a membership change; afterwards, anyone whose role it changed (or who lost their last mapped group)
   * loses their sessions, so no session keeps a role the IdP took away.
   */
  private async changeMembers(
    principal: Principal,
    groupId: string,
    tx: Tx,
    change: () => Promise<void>,
  ): Promise<void> {
    const tenantId = principal.tenantId;
    const before = new Map<string, string | null>();
    for (const m of await this.scim.members(tenantId, groupId, tx))
      before.set(m.id, await this.roleNow(tenantId, m.id, tx));
    await change();
    const after = await this.scim.members(tenantId, groupId, tx).catch(() => []);
    for (const m of after) if (!before.has(m.id)) before.set(m.id, null);
    for (const [userId, previous] of before) {
      const now = await this.roleNow(tenantId, userId, tx);
      if (now !== previous) await this.sessions.revokeForUser(tenantId, userId, 'scim', tx);
    }
  }

  private async roleNow(tenantId: string, userId: string, tx: Tx): Promise<string | null> {
    const groups = await this.scim.groupsOfUser(tenantId, userId, tx);
    return this.roles.roleOf(
      tenantId,
      groups.map((g) => g.display_name),
    );
  }

  private async userOr404(tenantId: string, id: string, tx?: Tx) {
    const row = UUID.test(id) ? await this.scim.user(tenantId, id, tx) : null;
    if (!row) throw notFound('User');
    return row;
  }

  private async groupOr404(tenantId: string, id: string, tx?: Tx) {
    const row = UUID.test(id) ? await this.scim.group(tenantId, id, tx) : null;
    if (!row) throw notFound('Group');
    return row;
  }

  private async record(
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

function memberIds(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.map((m) => {
    const id = (m as { value?: unknown })?.value;
    if (typeof id !== 'string' || !UUID.test(id))
      throw invalid('members', 'each member needs a user id as value');
    return id;
  });
}
