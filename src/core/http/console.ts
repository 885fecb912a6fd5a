import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

/**
 * The console's own client-side routes: deep links to them get the SPA's index.html. An explicit list (not a
 * catch-all) so that `/v1`, `/docs`, `/healthz`, `/readyz`, `/metrics`, `/scim` and every unknown path keep
 * their real answers (a JSON 404 stays a 404).
 */
export const CONSOLE_ROUTES = [
  '/',
  '/login',
  '/fleet',
  '/fleet/*',
  '/servers',
  '/findings',
  '/findings/*',
  '/graph',
  '/policies',
  '/policies/*',
  '/runtime',
  '/audit',
  '/keys',
] as const;

/**
 * The console's Content-Security-Policy: scripts, styles, images and API calls from this origin only; no inline
 * script, no eval, no plugins, not frameable, forms post only here. React renders untrusted text as text, and this
 * is the second wall if a payload ever became markup.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** dist/console of the package this file belongs to (src/ under jest, dist/src/ when built). */
function defaultConsoleDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'dist', 'console');
}

const SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

/**
 * Serves the built console at `/` from the same origin as the API: hashed assets under `/assets/` (immutable),
 * index.html for the console's routes (no-cache, strict CSP). Without a build it serves nothing and says so once.
 */
export async function serveConsole(
  fastify: FastifyInstance,
  dir: string | undefined,
  logger: Logger,
): Promise<void> {
  const root = dir ?? defaultConsoleDir();
  const indexFile = path.join(root, 'index.html');
  if (!existsSync(indexFile)) {
    logger.info({ console_dir: root }, 'web console not built (npm run build); serving the API only');
    return;
  }
  const index = readFileSync(indexFile);
  await fastify.register(fastifyStatic, {
    root: path.join(root, 'assets'),
    prefix: '/assets/',
    decorateReply: false,
    index: false,
    immutable: true,
    maxAge: '365d',
    setHeaders: (response) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.header(name, value);
    },
  });
  for (const url of CONSOLE_ROUTES) {
    fastify.get(url, async (_request, reply) =>
      reply
        .headers({
          ...SECURITY_HEADERS,
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-cache',
        })
        .send(index),
    );
  }
}
