/** Tenant ids are lower-case slugs: they appear in URLs, logs and metrics labels. */
export const TENANT_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Ids no customer may take; they are kept for the platform itself. */
export const RESERVED_TENANT_IDS: ReadonlySet<string> = new Set(['system', 'platform', 'admin', 'internal']);

export function tenantIdProblem(id: string): string | undefined {
  if (!TENANT_ID_PATTERN.test(id)) {
    return 'must be 1-63 characters of a-z, 0-9 and "-", starting and ending with a letter or digit';
  }
  if (RESERVED_TENANT_IDS.has(id)) return `"${id}" is reserved`;
  return undefined;
}
