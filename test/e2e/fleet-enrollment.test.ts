import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { runCli, startServer, type Server } from '../helpers/processes.js';

/**
 * Issue 10 finding 1's acceptance with real processes: `agent-bom api` on PostgreSQL, keys from the CLI, and
 * `agent-bom agents` enrolling, pushing again with its stored endpoint credential, a second fleet-push key refused
 * for the same source_id, then an admin revoking and re-enrolling the endpoint.
 */
describe('agents: endpoint enrollment end to end', () => {
  let db: TestDatabase;
  let root: string;
  let env: NodeJS.ProcessEnv;
  let server: Server;
  const keys: Record<string, string> = {};
  const credentialFile = () => path.join(root, 'config', 'agent-bom', 'endpoint-credential.json');

  const agents = (extra: string[]) =>
    runCli(
      [
        'agents',
        ...['--home', path.join(root, 'home'), '--os', 'linux', '--project', path.join(root, 'project')],
        ...['--no-introspect', '--push-url', server.url, '--source-id', 'laptop-1', '--json'],
        ...extra,
      ],
      env,
    );
  const api = async (method: string, url: string, key: string) => {
    const res = await fetch(`${server.url}${url}`, { method, headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, body: (await res.json()) as unknown };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-enroll-e2e-'));
    await fs.mkdir(path.join(root, 'project'));
    await fs.mkdir(path.join(root, 'home', '.cursor'), { recursive: true });
    await fs.writeFile(
      path.join(root, 'home', '.cursor', 'mcp.json'),
      JSON.stringify({ mcpServers: { jira: { url: 'https://jira.example/mcp' } } }),
    );
    env = {
      PATH: process.env.PATH,
      HOME: path.join(root, 'home'),
      XDG_CONFIG_HOME: path.join(root, 'config'),
      DATABASE_URL: db.url,
      LOG_LEVEL: 'warn',
    };
    server = await startServer(['--port', '0'], env);
    expect((await runCli(['tenants', 'create', 'acme'], env)).code).toBe(0);
    for (const [name, role] of [
      ['push', 'fleet-push'],
      ['other', 'fleet-push'],
      ['admin', 'admin'],
    ]) {
      const created = await runCli(
        ['keys', 'create', '--tenant', 'acme', '--role', role, '--name', name],
        env,
      );
      expect(created.code).toBe(0);
      keys[name] = created.stdout.trim();
    }
  }, 120_000);
  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    await db?.drop();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('the first push enrolls and stores the endpoint credential 0600, printed nowhere', async () => {
    const run = await agents(['--push-api-key', keys.push]);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.push).toMatchObject({ ok: true, enrolled: true, credential: 'fleet-push' });
    const stat = await fs.stat(credentialFile());
    expect(stat.mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await fs.readFile(credentialFile(), 'utf8'));
    expect(stored).toMatchObject({ control_plane: new URL(server.url).origin, source_id: 'laptop-1' });
    expect(run.stdout + run.stderr).not.toContain(stored.credential);
    expect(server.output()).not.toContain(stored.credential);
  });

  it('pushes again with the stored credential alone (no shared key)', async () => {
    const run = await agents([]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).push).toMatchObject({ ok: true, credential: 'endpoint' });
  });

  it('another fleet-push key is refused for the same source_id, and the refusal is audited', async () => {
    const run = await agents([
      '--push-api-key',
      keys.other,
      '--credential-file',
      path.join(root, 'elsewhere.json'),
    ]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).push.error).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    const audit = await api('GET', '/v1/audit?type=fleet.push_refused', keys.admin);
    expect(JSON.stringify(audit.body)).toContain('"subject":"key:other"');
  });

  it('an admin lists and revokes the endpoint: the stored credential and the shared key are both refused', async () => {
    const list = await api('GET', '/v1/fleet/endpoints', keys.admin);
    expect(list.body).toEqual([expect.objectContaining({ source_id: 'laptop-1', state: 'enrolled' })]);
    expect((await api('POST', '/v1/fleet/endpoints/laptop-1/revoke', keys.admin)).status).toBe(200);
    const run = await agents(['--push-api-key', keys.push]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).push.error).toMatchObject({ status: 403 });
  });

  it('re-enroll: the next push with the shared key enrolls again and replaces the stored credential', async () => {
    const before = JSON.parse(await fs.readFile(credentialFile(), 'utf8')).credential;
    expect((await api('POST', '/v1/fleet/endpoints/laptop-1/reenroll', keys.admin)).status).toBe(200);
    const run = await agents(['--push-api-key', keys.push]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).push).toMatchObject({ ok: true, enrolled: true });
    const after = JSON.parse(await fs.readFile(credentialFile(), 'utf8')).credential;
    expect(after).not.toBe(before);
    expect((await agents([])).code).toBe(0);
  });

  it('a credential file others can read is refused with a usage error', async () => {
    await fs.chmod(credentialFile(), 0o644);
    const run = await agents([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('readable or writable by other users');
    await fs.chmod(credentialFile(), 0o600);
  });
});
