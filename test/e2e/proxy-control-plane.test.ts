import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AuditEntryView } from '../../libs/contracts/src/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { CLI, runCli, startServer, waitFor, type Server } from '../helpers/processes.js';
import { startStdio, type StdioDriver } from '../helpers/stdio-driver.js';

/**
 * The proxy with the real control plane, all real processes: `agent-bom api` on a test database serving the
 * tenant's signed policy bundle, its verification keys and audit ingest; keys from `agent-bom keys create`; a
 * policy written through the API; the built proxy wrapping a scripted MCP server. Covers the bundle enforced and
 * refreshed, audit through an outage and a restart (each event exactly once), the fail-closed start on a
 * tampered cache, and a key of the wrong role.
 */
const node = process.execPath;
const SCRIPTED = path.resolve('test/fixtures/servers/scripted-mcp.mjs');

let db: TestDatabase;
let dir: string;
let cpEnv: NodeJS.ProcessEnv;
let port: number;
let cp: Server;
let adminKey: string;
let proxyKey: string;
let analystKey: string;
let policyId: string;
const drivers: StdioDriver[] = [];

const cpUrl = () => `http://127.0.0.1:${port}`;
const cacheDir = () => path.join(dir, 'cache');

function proxy(name: string, extraEnv: NodeJS.ProcessEnv = {}, flags: string[] = []): StdioDriver {
  const driver = startStdio(
    node,
    [
      CLI,
      'proxy',
      '--control-plane-url',
      cpUrl(),
      '--cache-dir',
      cacheDir(),
      '--log',
      path.join(dir, `${name}.log`),
      '--detect-credentials',
      '--block-undeclared',
      ...flags,
      '--',
      node,
      SCRIPTED,
    ],
    {
      PATH: process.env.PATH,
      HOME: dir,
      AGENT_BOM_API_TOKEN: proxyKey,
      AGENT_BOM_PROXY_AUDIT_BACKOFF_MAX_MS: '500',
      ...extraEnv,
    },
  );
  drivers.push(driver);
  return driver;
}

async function loggedEventIds(...names: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const name of names) {
    const text = await fs.readFile(path.join(dir, `${name}.log`), 'utf8');
    for (const line of text.split('\n'))
      if (line.includes('"level":"audit"')) ids.push(JSON.parse(line).event.event_id);
  }
  return ids;
}

async function api(method: string, route: string, key: string, body?: unknown) {
  const res = await fetch(cpUrl() + route, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> };
}

async function ledger(): Promise<AuditEntryView[]> {
  const entries: AuditEntryView[] = [];
  let cursor: string | undefined;
  do {
    const page = await api(
      'GET',
      `/v1/audit?origin=runtime&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
      analystKey,
    );
    expect(page.status).toBe(200);
    entries.push(...(page.body.items as AuditEntryView[]));
    cursor = (page.body.next_cursor as string | null) ?? undefined;
  } while (cursor);
  return entries;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: free } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return free;
}

async function stopControlPlane(): Promise<void> {
  cp.child.kill('SIGTERM');
  await cp.exited;
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'abom-proxy-cp-'));
  const keyFile = path.join(dir, 'signing.pem');
  await fs.writeFile(
    keyFile,
    generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
    { mode: 0o600 },
  );
  cpEnv = {
    ...process.env,
    DATABASE_URL: db.url,
    AGENT_BOM_SIGNING_KEY_FILE: keyFile,
    AGENT_BOM_DATA_DIR: path.join(dir, 'data'),
    LOG_LEVEL: 'warn',
  };
  port = await freePort();
  cp = await startServer(['--port', String(port)], cpEnv);
  expect((await runCli(['tenants', 'create', 'acme'], cpEnv)).code).toBe(0);
  const key = async (role: string) =>
    (await runCli(['keys', 'create', '--tenant', 'acme', '--role', role], cpEnv)).stdout.trim();
  adminKey = await key('admin');
  proxyKey = await key('proxy');
  analystKey = await key('analyst');
  const created = await api('POST', '/v1/gateway/policies', adminKey, {
    name: 'guard',
    document: {
      version: 1,
      rules: [
        {
          id: 'no-exfiltrate',
          description: 'set by the control plane',
          effect: 'deny',
          tools: ['exfiltrate', 'secret'],
        },
      ],
    },
  });
  expect(created.status).toBe(201);
  policyId = created.body.id as string;
}, 120_000);

afterAll(async () => {
  await Promise.all(
    drivers.map((d) => (d.child.exitCode === null && d.child.signalCode === null ? d.close() : undefined)),
  );
  if (cp && cp.child.exitCode === null) await stopControlPlane();
  await db?.drop();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('proxy with the real control plane', () => {
  it('enforces the tenant bundle, verified with the published key, and pushes its audit events to the ledger', async () => {
    const d = proxy('first');
    await d.handshake();
    await d.request(1, 'tools/list');
    expect(
      (await d.request(2, 'tools/call', { name: 'echo', arguments: { text: 'ok' } })).result?.content?.[0]
        .text,
    ).toBe('ok');
    const denied = await d.request(3, 'tools/call', { name: 'secret' });
    expect(denied.error).toMatchObject({
      code: -32001,
      message: expect.stringContaining('denied by control-plane policy rule "guard/no-exfiltrate"'),
      data: { rule_id: 'guard/no-exfiltrate', policy_source: 'control_plane', policy_version: '1' },
    });
    await d.close();
    const ids = await loggedEventIds('first');
    await waitFor(async () => (await ledger()).length >= ids.length, 15_000);
    const entries = await ledger();
    expect(entries.map((e) => e.event.event_id).sort()).toEqual([...ids].sort());
    const deniedEvent = entries.find((e) => e.event.type === 'tool_call.denied')!.event;
    expect(deniedEvent).toMatchObject({
      tool: 'secret',
      rule_id: 'guard/no-exfiltrate',
      server: 'scripted-mcp',
      client: 'raw-driver',
      request_id: '3',
      policy_version: '1',
    });
    expect(deniedEvent.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(deniedEvent.argument_fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(entries.some((e) => e.event.type === 'policy.loaded' && e.event.policy_version === '1')).toBe(
      true,
    );
    expect(JSON.stringify(entries)).not.toContain(proxyKey);
  }, 60_000);

  it('a policy change reaches a running proxy at its next refresh (ETag), and is enforced', async () => {
    const d = proxy('refresh', {}, ['--policy-refresh', '5s']);
    await d.handshake();
    await d.request(1, 'tools/list');
    expect((await d.request(2, 'tools/call', { name: 'meta' })).result).toBeDefined();
    const current = await api('GET', `/v1/gateway/policies/${policyId}`, adminKey);
    const updated = await api('PUT', `/v1/gateway/policies/${policyId}`, adminKey, {
      name: 'guard',
      document: {
        version: 1,
        rules: [
          { id: 'no-exfiltrate', effect: 'deny', tools: ['exfiltrate', 'secret'] },
          { id: 'no-meta', effect: 'deny', tools: ['meta'] },
        ],
      },
      expected_version: current.body.version,
    });
    expect(updated.status).toBe(200);
    await waitFor(() => /policy bundle v2 loaded/.test(d.stderr()), 15_000);
    const denied = await d.request(3, 'tools/call', { name: 'meta' });
    expect(denied.error?.data).toMatchObject({ rule_id: 'guard/no-meta', policy_version: '2' });
    await d.close();
  }, 60_000);

  it('audit written while the control plane is down arrives after it restarts, each event exactly once', async () => {
    const before = new Set((await ledger()).map((e) => e.event.event_id));
    await stopControlPlane();

    // One proxy keeps running through the outage; another exits while the control plane is still down.
    const running = proxy('through-outage');
    const exiting = proxy('exits-during-outage');
    for (const d of [running, exiting]) {
      await d.handshake();
      await d.request(1, 'tools/list');
      for (let i = 2; i < 12; i++)
        await d.request(i, 'tools/call', { name: 'echo', arguments: { text: `call ${i}` } });
      await d.request(12, 'tools/call', { name: 'secret' });
    }
    await exiting.close();
    expect(exiting.stderr()).toMatch(/cannot deliver audit events .*they stay spooled/);

    cp = await startServer(['--port', String(port)], cpEnv);
    // The running proxy retries by itself; the spool of the one that exited is adopted by the next proxy.
    const next = proxy('after-restart');
    await next.handshake();
    await next.request(1, 'tools/list');
    const expected = await loggedEventIds('through-outage', 'exits-during-outage', 'after-restart');
    await waitFor(async () => {
      const have = new Set((await ledger()).map((e) => e.event.event_id));
      return expected.every((id) => have.has(id));
    }, 30_000);
    await running.close();
    await next.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const ids = (await ledger()).map((e) => e.event.event_id).filter((id) => !before.has(id));
    const all = await loggedEventIds('through-outage', 'exits-during-outage', 'after-restart');
    expect(ids.length).toBe(new Set(ids).size);
    expect(new Set(ids)).toEqual(new Set(all));
    expect(next.stderr()).toMatch(/delivering audit events left by 1 earlier proxy run/);
    expect((await api('GET', '/v1/audit/verify', analystKey)).body).toMatchObject({ ok: true });
  }, 120_000);

  it('a tampered cached bundle with the control plane stopped: exit 1, the server never started', async () => {
    const [sub] = await fs.readdir(path.join(cacheDir(), 'proxy'));
    const file = path.join(cacheDir(), 'proxy', sub, 'bundle.json');
    const bundle = JSON.parse(await fs.readFile(file, 'utf8'));
    bundle.payload.policy.rules = []; // "allow everything"
    await fs.writeFile(file, JSON.stringify(bundle));
    await stopControlPlane();
    const started = path.join(dir, 'started.pid');
    const d = proxy('tampered', { STARTED_FILE: started });
    expect((await d.exited).code).toBe(1);
    expect(d.stderr()).toMatch(
      /refusing to start \(fail closed\): the cached policy bundle .*bundle\.json was refused \(tampered or corrupted\): BAD_SIGNATURE/,
    );
    expect(d.stderr()).toMatch(/the control plane is unreachable/);
    await expect(fs.stat(started)).rejects.toThrow();
    expect(d.lines).toEqual([]);

    // With the control plane back, the same command replaces the tampered cache and starts.
    cp = await startServer(['--port', String(port)], cpEnv);
    const healed = proxy('healed', { STARTED_FILE: started });
    await healed.handshake();
    expect(healed.stderr()).toMatch(/BAD_SIGNATURE/);
    expect((await healed.request(1, 'tools/call', { name: 'secret' })).error?.data).toMatchObject({
      rule_id: 'guard/no-exfiltrate',
    });
    await healed.close();
    expect(JSON.parse(await fs.readFile(file, 'utf8')).payload.policy.rules.length).toBe(2);
  }, 90_000);

  it('a key without the bundle permission: exit 1 naming the refusal, nothing started', async () => {
    const fleetKey = (
      await runCli(['keys', 'create', '--tenant', 'acme', '--role', 'fleet-push'], cpEnv)
    ).stdout.trim();
    const d = proxy('wrong-role', {
      AGENT_BOM_API_TOKEN: fleetKey,
      STARTED_FILE: path.join(dir, 'wrong-role.pid'),
    });
    expect((await d.exited).code).toBe(1);
    expect(d.stderr()).toMatch(
      /refusing to start \(fail closed\): no cached policy bundle .*cannot read the policy bundle; use a proxy or gateway key/s,
    );
    expect(d.stderr()).not.toContain(fleetKey);
  }, 60_000);
});
