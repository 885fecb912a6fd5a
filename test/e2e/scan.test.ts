import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { runCli, startServer, type Server } from '../helpers/processes.js';
import { pushUsageErrors } from '../helpers/push-usage.js';
import { makeScanFixture, OSV_FIXTURES, PLANTED_SECRET, upgradeFixture } from '../scans/fixture.js';

/**
 * Issue 12's end-to-end acceptance with real processes only: `agent-bom api` on PostgreSQL, keys and the
 * advisory database from the CLI, and `agent-bom scan --push-url` over a fixture home and project with
 * known-vulnerable pinned npm and PyPI packages; a second scan after "upgrading" resolves them.
 */
describe('agent-bom scan → control plane', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let server: Server;
  let fixture: Awaited<ReturnType<typeof makeScanFixture>>;
  const keys: Record<string, string> = {};
  const api = async (url: string, key: string) => {
    const res = await fetch(`${server.url}${url}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, text: await res.text() };
  };
  const scan = (...extra: string[]) =>
    runCli(
      [
        'scan',
        '--home',
        fixture.home,
        '--os',
        'linux',
        '--project',
        fixture.project,
        '--source-id',
        'ci-runner-1',
        ...extra,
      ],
      env,
      90_000,
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    fixture = await makeScanFixture();
    env = { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' };
    delete env.NODE_OPTIONS;
    server = await startServer(['--port', '0'], env);
    expect((await runCli(['tenants', 'create', 'acme'], env)).code).toBe(0);
    for (const role of ['fleet-push', 'viewer']) {
      const created = await runCli(['keys', 'create', '--tenant', 'acme', '--role', role], env);
      keys[role] = created.stdout.trim();
    }
    const imported = await runCli(['db', 'import', OSV_FIXTURES, '--json'], env);
    expect(JSON.parse(imported.stdout)).toMatchObject({ inserted: 5, total: 5 });
  }, 180_000);
  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    await db.drop();
    await fs.rm(fixture.root, { recursive: true, force: true });
  });

  it('scans against the imported database, pushes, and fails on high', async () => {
    const run = await scan(
      '--push-url',
      server.url,
      '--push-api-key',
      keys['fleet-push'],
      '--fail-on',
      'high',
    );
    expect(run.stderr).toContain('pushed scan');
    expect(run.code).toBe(4);
    expect(run.stdout).toContain('5 vulnerable; advisories: postgresql (5)');
    expect(run.stdout + run.stderr).not.toContain(PLANTED_SECRET);

    const findings = JSON.parse(
      (await api('/v1/findings?kind=vulnerability&limit=200', keys.viewer)).text,
    ).items;
    expect(findings.map((f: { advisory_id: string }) => f.advisory_id).sort()).toEqual([
      'GHSA-35jh-r3h4-6jhm',
      'GHSA-462w-v97r-4m45',
      'GHSA-8q59-q68h-6hv4',
      'GHSA-xvch-5gv4-984h',
      'TEST-0001',
    ]);
    const jobs = JSON.parse((await api('/v1/jobs', keys.viewer)).text).items;
    const plan = JSON.parse((await api(`/v1/scan/${jobs[0].id}/remediation`, keys.viewer)).text);
    expect(
      plan.remediation_plan.map((p: { name: string; fixed_version: string | null }) => [
        p.name,
        p.fixed_version,
      ]),
    ).toEqual(
      expect.arrayContaining([
        ['minimist', '1.2.6'],
        ['pyyaml', '5.4'],
        ['lodash', '4.17.21'],
        ['jinja2', '2.10.1'],
      ]),
    );
    const stored = await db.dataSource.query(`SELECT report::text AS r FROM scans`);
    expect(stored[0].r).not.toContain(PLANTED_SECRET);
  });

  it('a second scan after upgrading resolves the fixed vulnerabilities', async () => {
    await upgradeFixture(fixture);
    const run = await scan(
      '--push-url',
      server.url,
      '--push-api-key',
      keys['fleet-push'],
      '--format',
      'json',
      '--output',
      path.join(fixture.root, 'r.json'),
    );
    expect(run.code).toBe(0);
    const open = JSON.parse((await api('/v1/findings?kind=vulnerability', keys.viewer)).text).items;
    expect(open.map((f: { advisory_id: string }) => f.advisory_id)).toEqual(['TEST-0001']);
    const resolved = JSON.parse((await api('/v1/findings?status=resolved', keys.viewer)).text).items;
    expect(resolved).toHaveLength(4);
    const report = JSON.parse(await fs.readFile(path.join(fixture.root, 'r.json'), 'utf8'));
    expect(report.summary.vulnerable_packages).toBe(1);
  });

  it('a refused endpoint credential (re-enrolled by an admin) falls back to the shared key, as agents does', async () => {
    const admin = (
      await runCli(['keys', 'create', '--tenant', 'acme', '--role', 'admin'], env)
    ).stdout.trim();
    const local = { ...env, AGENT_BOM_CREDENTIAL_FILE: path.join(fixture.root, 'credentials.json') };
    const push = ['--push-url', server.url, '--push-api-key', keys['fleet-push'], '--source-id', 'laptop-7'];
    const base = ['--home', fixture.home, '--os', 'linux', '--project', fixture.project, ...push];
    const enrolled = await runCli(['agents', ...base, '--json'], local, 90_000);
    expect(JSON.parse(enrolled.stdout).push).toMatchObject({ ok: true, enrolled: true });
    const reopened = await fetch(`${server.url}/v1/fleet/endpoints/laptop-7/reenroll`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(reopened.status).toBe(200);
    const run = await runCli(['scan', ...base, '--format', 'json'], local, 90_000);
    expect({ code: run.code, stderr: run.stderr }).toEqual({
      code: 0,
      stderr: expect.stringContaining('pushed scan'),
    });
  });

  it('bad-input: a fleet-push key cannot read back; a wrong key fails the push with exit 1', async () => {
    expect((await api('/v1/findings', keys['fleet-push'])).status).toBe(403);
    const run = await scan('--push-url', server.url, '--push-api-key', 'abom_not_a_real_key');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('push to');
    expect((await scan('--advisories', path.join(fixture.root, 'missing.zip'))).code).toBe(2);
  });
});

/** The push options `scan` shares with `agents` (cli/push-options.ts) are refused the same way: exit 2, nothing run. */
describe('agent-bom scan usage errors', () => {
  const KEY = 'abom_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';
  let home: string;
  beforeAll(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'abom-scan-usage-'));
  });
  afterAll(() => fs.rm(home, { recursive: true, force: true }));

  it.each(pushUsageErrors(KEY))('usage error %j exits 2', async (args, message) => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: '', XDG_CONFIG_HOME: home };
    delete env.NODE_OPTIONS;
    const result = await runCli(['scan', '--home', home, '--advisories', OSV_FIXTURES, ...args], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toContain(KEY);
    expect(result.stdout).toBe('');
  });
});
