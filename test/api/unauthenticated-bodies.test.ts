import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { listRoutes } from '../helpers/routes.js';

/**
 * Issue 10, finding 3: a protected route must refuse an anonymous (or wrongly credentialed) request before its
 * body is read, so a malformed, empty or huge body is a 401, never a 400 or 413, and costs no parsing.
 * Every operation of the OpenAPI document is tried; the routes declared `@Public()` are the only ones skipped.
 */
const SOME_ID = '2f1e0c9a-5b7d-4e3f-8a21-9c0d1e2f3a4b';
const HUGE = Buffer.alloc(6 * 1024 * 1024, 'a');

interface Operation {
  method: string;
  path: string;
}

describe('unauthenticated: every protected route is a 401 before its body is read', () => {
  let t: TestApp;
  let operations: Operation[];

  beforeAll(async () => {
    t = await startTestApp();
    const doc = (await t.app.inject({ method: 'GET', url: '/docs-json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const publicRoutes = new Set(
      listRoutes(t.app)
        .filter((r) => r.isPublic)
        .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z_]+)/g, '{$1}')}`),
    );
    operations = Object.entries(doc.paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => ({ method: m.toUpperCase(), path })))
      .filter((op) => !publicRoutes.has(`${op.method} ${op.path}`));
  });
  afterAll(() => t.close());

  it('reads a non-trivial route list from the OpenAPI document', () => {
    expect(operations.length).toBeGreaterThan(20);
    expect(operations).toEqual(expect.arrayContaining([{ method: 'POST', path: '/v1/fleet/sync' }]));
  });

  const bodies: Array<[string, string | Buffer]> = [
    ['a malformed JSON body', '{"source_id": '],
    ['an empty JSON body', ''],
    ['a huge body', HUGE],
  ];
  const credentials: Array<[string, Record<string, string>]> = [
    ['no credential', {}],
    ['an unknown key', { authorization: `Bearer abom_${'Z'.repeat(43)}` }],
    ['a malformed bearer', { authorization: 'Bearer' }],
  ];

  it.each(bodies)('%s is a 401 on every protected route', async (_label, payload) => {
    const refused: string[] = [];
    for (const op of operations) {
      for (const [who, headers] of credentials) {
        const res = await t.app.inject({
          method: op.method as 'POST',
          url: op.path.replace(/\{[^}]+\}/g, SOME_ID),
          headers: { 'content-type': 'application/json', ...headers },
          payload,
        });
        if (res.statusCode !== 401 || res.json().error.code !== 'UNAUTHENTICATED') {
          refused.push(`${op.method} ${op.path} (${who}): ${res.statusCode} ${res.body.slice(0, 80)}`);
        } else {
          expect(res.headers['www-authenticate']).toBe('Bearer realm="agent-bom"');
        }
      }
    }
    expect(refused).toEqual([]);
  });
});
