import type { FastifyInstance } from 'fastify';
import { DomainError } from '../errors/domain-error.js';

/** Deeper bodies are refused before any validation or mapping code recurses into them. */
export const MAX_JSON_DEPTH = 32;

/**
 * Longest array and most values in one body. Validation instantiates and checks every element before a DTO's
 * own size limit can refuse it, so a 4 MiB body of a million `{}` would otherwise exhaust the heap.
 * Real payloads stay far below: a fleet sync or an audit batch is thousands of values.
 */
export const MAX_JSON_ARRAY_LENGTH = 10_000;
export const MAX_JSON_VALUES = 200_000;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The control plane accepts JSON bodies only: no form or text parsers, so a cross-site HTML form cannot
 * drive a write. The body must be valid UTF-8 (no silent U+FFFD substitution), nest at most
 * {@link MAX_JSON_DEPTH} levels, stay within {@link MAX_JSON_ARRAY_LENGTH} and {@link MAX_JSON_VALUES}, and
 * contain no NUL character in any key or string (PostgreSQL text cannot store one). Problems name their path. Fastify's own parser stays underneath (it refuses `__proto__` and `constructor.prototype` keys).
 */
export function installJsonBodyParser(fastify: FastifyInstance): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    ['application/json', 'application/scim+json'],
    { parseAs: 'buffer' },
    (request, body, done) => {
      let text: string;
      try {
        text = utf8.decode(body as Buffer);
      } catch {
        return done(new DomainError('MALFORMED_JSON', 'body is not valid UTF-8'));
      }
      parseJson(request, text, (error: Error | null, value?: unknown) => {
        if (error) return done(error);
        const problem = inspect(value);
        if (problem) {
          const message = `${problem.field} ${problem.problem}`;
          return done(
            new DomainError('VALIDATION_ERROR', message, [{ field: problem.field, problems: [message] }]),
          );
        }
        done(null, value);
      });
    },
  );
}

interface Frame {
  node: unknown;
  depth: number;
  key: string | number | null;
  parent: Frame | null;
}

/** `events.2.tool` for a frame: built only when a problem is reported. */
function pathOf(frame: Frame | null): string {
  const keys: Array<string | number> = [];
  for (let f = frame; f && f.key !== null; f = f.parent) keys.unshift(f.key);
  return keys.length ? keys.join('.') : 'body';
}

function inspect(value: unknown): { field: string; problem: string } | undefined {
  const stack: Frame[] = [{ node: value, depth: 1, key: null, parent: null }];
  let values = 0;
  while (stack.length) {
    const frame = stack.pop()!;
    if (++values > MAX_JSON_VALUES)
      return { field: 'body', problem: `has more than ${MAX_JSON_VALUES} values` };
    const { node, depth } = frame;
    if (typeof node === 'string') {
      if (node.includes('\u0000')) return { field: pathOf(frame), problem: 'contains a NUL character' };
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    if (depth > MAX_JSON_DEPTH)
      return { field: pathOf(frame), problem: `nests deeper than ${MAX_JSON_DEPTH} levels` };
    if (Array.isArray(node)) {
      if (node.length > MAX_JSON_ARRAY_LENGTH) {
        return { field: pathOf(frame), problem: `has more than ${MAX_JSON_ARRAY_LENGTH} elements` };
      }
      node.forEach((child, i) => stack.push({ node: child, depth: depth + 1, key: i, parent: frame }));
    } else {
      for (const [key, child] of Object.entries(node)) {
        if (key.includes('\u0000'))
          return { field: pathOf(frame), problem: 'has a key containing a NUL character' };
        stack.push({ node: child, depth: depth + 1, key, parent: frame });
      }
    }
  }
  return undefined;
}

/**
 * The one exception to "JSON only": the SAML ACS receives the IdP's HTTP-POST binding form. The parser refuses
 * a form on any other path (415), and caps it at 512 KiB. The response itself is authenticated by its signature,
 * its one-time RelayState and `InResponseTo`, not by the form.
 */
export function installFormParserFor(fastify: FastifyInstance, path: string): void {
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 512 * 1024 },
    (request, body, done) => {
      if (request.url.split('?')[0] !== path) {
        return done(new DomainError('UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json'));
      }
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );
}
