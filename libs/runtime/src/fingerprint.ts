import { hash } from 'node:crypto';
import { canonicalJson } from '../../policy/src/index.js';

/**
 * `sha256:<hex>` of the canonical JSON (RFC 8785) of a value: calls and tool definitions can be matched without
 * the ledger holding their values. A value that is not I-JSON (a lone surrogate, nesting deeper than 1,000) has no
 * fingerprint: undefined, or the digest of `raw:<fallback>` when the caller has the text it came from.
 */
export function fingerprint(value: unknown): string | undefined;
export function fingerprint(value: unknown, fallback: string): string;
export function fingerprint(value: unknown, fallback?: string): string | undefined {
  let text: string;
  try {
    text = canonicalJson(value);
  } catch {
    if (fallback === undefined) return undefined;
    text = `raw:${fallback}`;
  }
  // One-shot: no Hash object per call (this runs for every call that acts).
  return `sha256:${hash('sha256', text, 'hex')}`;
}

/** `params` without `_meta` (the part of a request that says what to do; `_meta` is transport and tracing). */
export function withoutMeta<T>(params: T): T {
  if (params === null || typeof params !== 'object' || Array.isArray(params) || !('_meta' in params))
    return params;
  const { _meta: _ignored, ...rest } = params as Record<string, unknown>;
  return rest as T;
}
