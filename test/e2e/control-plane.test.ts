import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { isAlive, runCli, startServer, waitFor, type Server } from '../helpers/processes.js';

/**
 * The README's promise on a fresh machine, with real processes: `agent-bom api` on the embedded PostgreSQL,
 * the CLI creating a tenant and a key against it, the key working over HTTP, and clean shutdowns.
 */
describe('agent-bom api on the embedded database, driven by the real CLI', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let server: Server | undefined;
  const postmasterPid = () => {
    const file = path.join(dataDir, 'postgres', 'postmaster.pid');
    return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : undefined;
  };

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-e2e-'));
    env = {
      ...process.env,
      AGENT_BOM_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      AGENT_BOM_AUTH_CACHE_TTL_SECONDS: '1',
    };
    delete env.DATABASE_URL; // the embedded path, even when CI points the suite at a shared server
  });
  afterAll(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    const pid = postmasterPid();
    if (pid && isAlive(pid)) process.kill(pid, 'SIGINT');
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('starts on a private port, says where it listens and how to create the first key', async () => {
    server = await startServer(['--port', '0'], env);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await waitFor(() => server!.output().includes('keys create --tenant acme --role admin'));
    const state = JSON.parse(await fs.readFile(path.join(dataDir, 'embedded-postgres.json'), 'utf8'));
    expect(state.port).not.toBe(5432);
    expect(state.owner_pid).toBe(server.child.pid);
    expect((await fs.stat(path.join(dataDir, 'embedded-postgres.json'))).mode & 0o077).toBe(0);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
  }, 90_000);

  it('tenants create + keys create print a key that /v1/auth/me accepts', async () => {
    const tenant = await runCli(['tenants', 'create', 'acme'], env);
    expect(tenant).toMatchObject({ code: 0, stdout: 'created tenant acme\n' });
    const key = await runCli(['keys', 'create', '--tenant', 'acme', '--role', 'admin'], env);
    expect(key.code).toBe(0);
    const raw = key.stdout.trim();
    expect(raw).toMatch(/^abom_[A-Za-z0-9_-]{43}$/);
    expect(key.stderr).toContain('shown once');
    const me = await fetch(`${server!.url}/v1/auth/me`, { headers: { authorization: `Bearer ${raw}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ tenant_id: 'acme', role: 'admin' });

    const listed = await runCli(['keys', 'list', '--tenant', 'acme', '--json'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(raw);
    const keys = JSON.parse(listed.stdout);
    expect(keys).toHaveLength(1);

    const revoked = await runCli(['keys', 'revoke', keys[0].id, '--tenant', 'acme'], env);
    expect(revoked.code).toBe(0);
    await waitFor(async () => {
      const res = await fetch(`${server!.url}/v1/auth/me`, { headers: { authorization: `Bearer ${raw}` } });
      return res.status === 401;
    }, 10_000);
  }, 60_000);

  it.each([
    [['keys', 'create', '--tenant', 'nope', '--role', 'admin'], 1, 'does not exist'],
    [['keys', 'create', '--tenant', 'acme', '--role', 'root'], 2, '--role must be one of'],
    [['keys', 'create', '--tenant', 'acme', '--role', 'viewer', '--expires-in', 'soon'], 2, 'expires_in'],
    [['keys', 'create', '--role', 'admin'], 2, "required option '--tenant <id>'"],
    [['tenants', 'create', 'Not Valid'], 2, 'id'],
    [['tenants', 'create', 'acme'], 1, 'already exists'],
    [['keys', 'revoke', 'not-a-uuid', '--tenant', 'acme'], 2, 'UUID'],
    [['proxy'], 2, 'no server command'],
    [['gateway', 'serve', '--bind', '0.0.0.0:8090'], 2, 'nothing to front'],
    [['scan', '--fail-on', 'apocalyptic'], 2, 'Allowed choices are low, medium, high, critical'],
    [['db', 'import', '/nonexistent/osv.zip'], 1, 'ARCHIVE_UNREADABLE'],
    [['frobnicate'], 2, 'unknown command'],
  ])(
    'agent-bom %j exits %i with a clear message',
    async (args, code, message) => {
      const result = await runCli(args, env);
      expect(result.code).toBe(code);
      expect(result.stderr).toContain(message);
      expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
    },
    60_000,
  );

  it('--help works on every command', async () => {
    for (const args of [
      [],
      ['api'],
      ['migrate'],
      ['tenants'],
      ['tenants', 'create'],
      ['keys', 'create'],
      ['gateway', 'serve'],
    ]) {
      const result = await runCli([...args, '--help'], env);
      expect({ args, code: result.code }).toEqual({ args, code: 0 });
      expect(result.stdout).toContain('Usage: agent-bom');
    }
  }, 60_000);

  it('a second control plane on the same data dir refuses to start', async () => {
    const second = startServer(['--port', '0'], env, 30_000);
    await expect(second).rejects.toThrow(/already runs the embedded PostgreSQL/);
  }, 60_000);

  it('SIGTERM stops HTTP, the pool and the embedded server: exit 0, no postgres left', async () => {
    const pid = postmasterPid()!;
    expect(isAlive(pid)).toBe(true);
    server!.child.kill('SIGTERM');
    expect(await server!.exited).toBe(0);
    await waitFor(() => !isAlive(pid));
    const state = JSON.parse(await fs.readFile(path.join(dataDir, 'embedded-postgres.json'), 'utf8'));
    expect(state.owner_pid).toBeNull();
  }, 60_000);

  it('data survives a restart, and an orphaned postmaster left by kill -9 is stopped on the next start', async () => {
    server = await startServer(['--port', '0'], env);
    const orphan = postmasterPid()!;
    server.child.kill('SIGKILL');
    await server.exited;
    expect(isAlive(orphan)).toBe(true); // the orphan outlives its owner

    server = await startServer(['--port', '0'], env);
    expect(server.output()).not.toContain('no tenants yet'); // acme is still there
    expect(isAlive(orphan)).toBe(false);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    const listed = await runCli(['tenants', 'list', '--json'], env);
    expect(JSON.parse(listed.stdout).map((t: { id: string }) => t.id)).toEqual(['acme']);

    const pid = postmasterPid()!;
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(0);
    await waitFor(() => !isAlive(pid));
  }, 120_000);

  it('migrate works on the embedded database with nothing running, and leaves nothing running', async () => {
    const result = await runCli(['migrate', '--json'], env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ applied: [] });
    const pid = postmasterPid();
    expect(pid === undefined || !isAlive(pid)).toBe(true);
  }, 60_000);
});
