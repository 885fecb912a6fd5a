import { invalid } from '../../core/errors/domain-error.js';

/**
 * HTTP preconditions of the policy routes (RFC 9110 §13): `If-Match: "<version>"` guards policy writes, and
 * `If-None-Match: "<bundle version>.<key id>"` turns a bundle poll into a 304.
 */

/** The versions an `If-Match` accepts (`"3"`, `3`, `"3", "4"`), `'*'` for any, or undefined when absent. */
export function parseIfMatch(header: string | undefined): number[] | '*' | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (text === '*') return '*';
  const versions = text.split(',').map((part) => {
    const match = /^(?:"(\d{1,9})"|(\d{1,9}))$/.exec(part.trim());
    if (!match)
      throw invalid('If-Match', 'must be a quoted policy version such as "3" (the ETag of its GET)');
    return Number(match[1] ?? match[2]);
  });
  return versions;
}

/**
 * The one expected version of a write, from `If-Match` or the body's `expected_version`; both given must agree.
 * Undefined: unconditional.
 */
export function expectedVersion(
  ifMatch: string | undefined,
  bodyVersion: number | undefined,
): number[] | '*' | undefined {
  const fromHeader = parseIfMatch(ifMatch);
  if (bodyVersion === undefined) return fromHeader;
  if (fromHeader !== undefined && fromHeader !== '*' && !fromHeader.includes(bodyVersion)) {
    throw invalid('expected_version', 'disagrees with the If-Match header');
  }
  return [bodyVersion];
}

/** Whether an `If-None-Match` header lists `etag` (weak or strong) or is `*`. */
export function noneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((part) => {
    const tag = part.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}
