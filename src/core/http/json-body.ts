import type { FastifyInstance } from 'fastify';
import { DomainError } from '../errors/domain-error.js';

/** Deeper bodies are refused before any validation or mapping code recurses into them. */
export const MAX_JSON_DEPTH = 32;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The control plane accepts JSON bodies only: no form or text parsers, so a cross-site HTML form cannot
 * drive a write. The body must be valid UTF-8 (no silent U+FFFD substitution), nest at most
 * {@link MAX_JSON_DEPTH} levels, and contain no NUL character in any key or string (PostgreSQL text cannot
 * store one). Fastify's own parser stays underneath (it refuses `__proto__` and `constructor.prototype` keys).
 */
export function installJsonBodyParser(fastify: FastifyInstance): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      return done(new DomainError('MALFORMED_JSON', 'body is not valid UTF-8'));
    }
    parseJson(request, text, (error: Error | null, value?: unknown) => {
      if (error) return done(error);
      const problem = inspect(value);
      if (problem) return done(new DomainError('VALIDATION_ERROR', problem));
      done(null, value);
    });
  });
}

function inspect(value: unknown): string | undefined {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (typeof node === 'string') {
      if (node.includes('\u0000')) return 'body contains a NUL character';
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) return `body nests deeper than ${MAX_JSON_DEPTH} levels`;
    if (Array.isArray(node)) {
      for (const child of node) stack.push([child, depth + 1]);
    } else {
      for (const [key, child] of Object.entries(node)) {
        if (key.includes('\u0000')) return 'body contains a NUL character';
        stack.push([child, depth + 1]);
      }
    }
  }
  return undefined;
}
