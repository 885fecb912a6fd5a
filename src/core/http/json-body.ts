import type { FastifyInstance } from 'fastify';
import { DomainError } from '../errors/domain-error.js';

/** Deeper bodies are refused before any validation or mapping code recurses into them. */
export const MAX_JSON_DEPTH = 32;

/**
 * The control plane accepts JSON bodies only: no form or text parsers, so a cross-site HTML form cannot
 * drive a write, and a body nested deeper than {@link MAX_JSON_DEPTH} is a 400 instead of a stack overflow.
 * Fastify's own parser stays underneath (it refuses `__proto__` and `constructor.prototype` keys).
 */
export function installJsonBodyParser(fastify: FastifyInstance): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parseJson(request, String(body), (error: Error | null, value?: unknown) => {
      if (error) return done(error);
      if (depthExceeds(value, MAX_JSON_DEPTH)) {
        return done(new DomainError('VALIDATION_ERROR', `body nests deeper than ${MAX_JSON_DEPTH} levels`));
      }
      done(null, value);
    });
  });
}

function depthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}
