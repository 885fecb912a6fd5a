import { Injectable } from '@nestjs/common';
import type { Principal } from '../../../core/auth/principal.js';
import { Transactions, type Tx } from '../../../core/database/transactions.js';
import { conflict, invalid, notFound } from '../../../core/errors/domain-error.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { ScimRoles } from './scim-roles.js';
import { eqFilter, groupOf, pageOf, patchOf } from './scim-input.js';
import { groupResource, listResponse } from './scim.mapper.js';
import { ScimRepository } from './scim.repository.js';
import { ScimService } from './scim.service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * SCIM 2.0 Groups for one tenant. Guarantees: members must be users of the same tenant; a membership change that
 * changes a person's role (through the group maps) ends their sessions in the same transaction, so the next login
 * carries the new role; every change is audited.
 */
@Injectable()
export class ScimGroupsService {
  constructor(
    private readonly scim: ScimRepository,
    private readonly roles: ScimRoles,
    private readonly sessions: SessionsService,
    private readonly transactions: Transactions,
    private readonly users: ScimService,
  ) {}

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
      await this.users.record(
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
      await this.users.record(principal, 'scim.group_updated', id, { display_name: row.display_name }, tx);
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
      await this.users.record(
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
      await this.users.record(principal, 'scim.group_deleted', id, { display_name: row.display_name }, tx);
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

  private async groupOr404(tenantId: string, id: string, tx?: Tx) {
    const row = UUID.test(id) ? await this.scim.group(tenantId, id, tx) : null;
    if (!row) throw notFound('Group');
    return row;
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
