import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/** The control plane serves the console's routes and assets, and nothing it serves for them shadows the API. */
describe('console serving', () => {
  let db: TestDatabase;
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-console-'));
    await fs.mkdir(path.join(dir, 'assets'));
    await fs.writeFile(
      path.join(dir, 'index.html'),
      '<!doctype html><script type="module" src="/assets/app-1.js"></script>',
    );
    await fs.writeFile(path.join(dir, 'assets', 'app-1.js'), 'console.log(1)');
    db = await createTestDatabase({ migrated: true });
    t = await startTestApp({ db, env: { AGENT_BOM_CONSOLE_DIR: dir } });
  });
  afterAll(async () => {
    await t.close();
    await db.drop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it.each(['/', '/login', '/fleet', '/fleet/9b1c', '/policies/new', '/audit?seq=3', '/keys?tab=sessions'])(
    'serves index.html for %s with the CSP and no caching',
    async (url) => {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-security-policy']).toMatch(/script-src 'self';/);
      expect(res.headers['content-security-policy']).not.toMatch(/unsafe/);
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toContain('/assets/app-1.js');
    },
  );

  it('serves hashed assets as immutable', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/assets/app-1.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toContain('immutable');
  });

  it.each(['/v1/nope', '/nope', '/fleetx', '/assets/missing.js', '/scim/v2/Users', '/assets/../index.html'])(
    'leaves %s to its real answer (not the SPA)',
    async (url) => {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode).not.toBe(200);
      expect(res.body).not.toContain('/assets/app-1.js');
    },
  );

  it('keeps the API, probes and docs', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/v1/fleet' })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/docs-json' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: '/' })).statusCode).toBe(404);
  });
});

describe('console serving without a build', () => {
  it('runs the API alone when the console directory has no index.html', async () => {
    const empty = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-console-empty-'));
    const t = await startTestApp({ env: { AGENT_BOM_CONSOLE_DIR: empty } });
    try {
      expect((await t.app.inject({ method: 'GET', url: '/' })).statusCode).toBe(404);
      expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await t.close();
      await fs.rm(empty, { recursive: true, force: true });
    }
  });
});
