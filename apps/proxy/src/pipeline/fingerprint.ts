import { createHash } from 'node:crypto';
import { canonicalJson } from '../../../../libs/policy/src/index.js';

/** `sha256:<hex>` of the canonical JSON of a value (RFC 8785), or of `fallback` text when it has none. */
export function fingerprint(value: unknown, fallback = ''): string {
  let text: string;
  try {
    text = canonicalJson(value);
  } catch {
    text = `raw:${fallback}`;
  }
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** `params` without `_meta` (the part of a request that says what to do). */
export function withoutMeta(params: unknown): unknown {
  if (params === null || typeof params !== 'object' || Array.isArray(params) || !('_meta' in params))
    return params;
  const { _meta: _ignored, ...rest } = params as Record<string, unknown>;
  return rest;
}
