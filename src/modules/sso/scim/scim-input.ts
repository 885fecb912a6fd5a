import { z } from 'zod';
import { invalid } from '../../../core/errors/domain-error.js';
import type { UserFields } from './scim.repository.js';

const text = (max: number) => z.string().trim().min(1).max(max);
const bool = z.union([
  z.boolean(),
  z.enum(['true', 'false', 'True', 'False']).transform((v) => v.toLowerCase() === 'true'),
]);

/** A SCIM User body: the attributes we keep; others (name, phoneNumbers, meta…) are accepted and ignored. */
const USER = z
  .object({
    userName: text(320),
    externalId: text(256).optional(),
    displayName: text(256).optional(),
    emails: z
      .array(z.object({ value: text(320), primary: z.boolean().optional() }).loose())
      .max(20)
      .optional(),
    active: bool.optional(),
  })
  .loose();

const GROUP = z
  .object({
    displayName: text(256),
    externalId: text(256).optional(),
    members: z
      .array(z.object({ value: z.uuid() }).loose())
      .max(10_000)
      .optional(),
  })
  .loose();

const PATCH = z
  .object({
    Operations: z
      .array(
        z.object({
          op: z
            .string()
            .transform((v) => v.toLowerCase())
            .pipe(z.enum(['add', 'remove', 'replace'])),
          path: z.string().max(512).optional(),
          value: z.unknown().optional(),
        }),
      )
      .min(1)
      .max(1000),
  })
  .loose();

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw invalid(issue.path.join('.') || 'body', issue.message);
  }
  return result.data;
}

export function userFieldsOf(body: unknown): UserFields {
  const u = parse(USER, body);
  const email = u.emails?.find((e) => e.primary)?.value ?? u.emails?.[0]?.value ?? null;
  return {
    user_name: u.userName,
    external_id: u.externalId ?? null,
    display_name: u.displayName ?? null,
    email,
    active: u.active ?? true,
  };
}

export function groupOf(body: unknown) {
  return parse(GROUP, body);
}

export type PatchOperation = z.infer<typeof PATCH>['Operations'][number];

export function patchOf(body: unknown): PatchOperation[] {
  return parse(PATCH, body).Operations;
}

export function booleanOf(value: unknown, field: string): boolean {
  const result = bool.safeParse(value);
  if (!result.success) throw invalid(field, 'must be a boolean');
  return result.data;
}

/** `attr eq "value"`, the one filter SCIM clients send for lookups; anything else is a 400 (scimType invalidFilter). */
export function eqFilter<F extends string>(
  filter: unknown,
  fields: Record<string, F>,
): { field: F; value: string } | undefined {
  if (filter === undefined) return undefined;
  const match =
    typeof filter === 'string' ? /^\s*(\w+)\s+eq\s+"((?:[^"\\]|\\.){1,320})"\s*$/i.exec(filter) : null;
  const field =
    match && Object.entries(fields).find(([name]) => name.toLowerCase() === match[1].toLowerCase())?.[1];
  if (!match || !field) throw invalid('filter', `supported: ${Object.keys(fields).join(' | ')} eq "value"`);
  return { field, value: match[2].replace(/\\(.)/g, '$1') };
}

export function pageOf(
  startIndex: unknown,
  count: unknown,
): { startIndex: number; offset: number; limit: number } {
  const start = startIndex === undefined ? 1 : Number(startIndex);
  const size = count === undefined ? 100 : Number(count);
  if (!Number.isInteger(start) || start < 1 || start > 1_000_000)
    throw invalid('startIndex', 'must be a positive integer');
  if (!Number.isInteger(size) || size < 0 || size > 500)
    throw invalid('count', 'must be an integer from 0 to 500');
  return { startIndex: start, offset: start - 1, limit: size };
}
