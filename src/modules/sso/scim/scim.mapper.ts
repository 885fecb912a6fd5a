import type { ScimGroupRow, ScimUserRow } from './scim.repository.js';

export const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const SCIM_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const SCIM_LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SCIM_PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

export function userResource(row: ScimUserRow, groups: Array<{ id: string; display_name: string }>) {
  return {
    schemas: [SCIM_USER],
    id: row.id,
    ...(row.external_id ? { externalId: row.external_id } : {}),
    userName: row.user_name,
    ...(row.display_name ? { displayName: row.display_name } : {}),
    ...(row.email ? { emails: [{ value: row.email, primary: true }] } : {}),
    active: row.active,
    groups: groups.map((g) => ({ value: g.id, display: g.display_name, $ref: `/scim/v2/Groups/${g.id}` })),
    meta: {
      resourceType: 'User',
      created: row.created_at.toISOString(),
      lastModified: row.updated_at.toISOString(),
      location: `/scim/v2/Users/${row.id}`,
    },
  };
}

export function groupResource(row: ScimGroupRow, members: Array<{ id: string; user_name: string }>) {
  return {
    schemas: [SCIM_GROUP],
    id: row.id,
    ...(row.external_id ? { externalId: row.external_id } : {}),
    displayName: row.display_name,
    members: members.map((m) => ({ value: m.id, display: m.user_name, $ref: `/scim/v2/Users/${m.id}` })),
    meta: {
      resourceType: 'Group',
      created: row.created_at.toISOString(),
      lastModified: row.updated_at.toISOString(),
      location: `/scim/v2/Groups/${row.id}`,
    },
  };
}

export function listResponse<T>(resources: T[], total: number, startIndex: number) {
  return {
    schemas: [SCIM_LIST],
    totalResults: total,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}
