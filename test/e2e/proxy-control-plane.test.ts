import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AuditEntryView } from '../../libs/contracts/src/index.js';
import type { PolicyDocument } from '../../libs/policy/src/index.js';
import { startBundleServer, type BundleServer } from '../helpers/bundle-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { CLI, runCli, startServer, waitFor, type Server } from '../helpers/processes.js';
import { startStdio, type StdioDriver } from '../helpers/stdio-driver.js';

/**
 * The proxy with a control plane, all real processes: `agent-bom api` on a test database (audit ingest and
 * ledger), the built proxy, and a loopback server that speaks the policy-bundle contract with libs/policy-signed
 * bundles (the bundle routes are not on main yet) and forwards audit pushes to the real control plane.
 * Covers: bundle policy enforced, fail-closed start on a tampered cache, and audit written while the control
 * plane is down arriving after it restarts, each event exactly once.
 */
const node = process.execPath;
const SCRIPTED = path.resolve('test/fixtures/servers/scripted-mcp.mjs');
const BUNDLE_POLICY: PolicyDocument = {
  version: 1,
  rules: [
    {
      id: 'cp-no-exfiltrate',
      description: 'set by the control plane',
      effect: 'deny',
      tools: ['exfiltrate', 'secret'],
    },
  ],
};

let db: TestDatabase;
let dir: string;
let cpEnv: NodeJS.ProcessEnv;
let cp: Server;
let shim: BundleServer;
let proxyKey: string;
let analystKey: string;
const drivers: StdioDriver[] = [];

const cacheDir = () => path.join(dir, 'cache');
function proxy(name: string, extraEnv: NodeJS.ProcessEnv = {}): StdioDriver {
  const driver = startStdio(
    node,
    [
      CLI,
      'proxy',
      '--control-plane-url',
      shim.url,
      '--cache-dir',
      cacheDir(),
      '--log',
      path.join(dir, `${name}.log`),
      '--detect-credentials',
      '--block-undeclared',
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

async function loggedEventIds(name: string): Promise<string[]> {
  const text = await fs.readFile(path.join(dir, `${name}.log`), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.includes('"level":"audit"'))
    .map((line) => JSON.parse(line).event.event_id as string);
}

async function ledger(): Promise<AuditEntryView[]> {
  const entries: AuditEntryView[] = [];
  let cursor: string | undefined;
  do {
    const res = await fetch(
      `${cp.url}/v1/audit?origin=runtime&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
      {
        headers: { authorization: `Bearer ${analystKey}` },
      },
    );
    expect(res.status).toBe(200);
    const page = (await res.json()) as { items: AuditEntryView[]; next_cursor: string | null };
    entries.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return entries;
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
  cp = await startServer(['--port', '0'], cpEnv);
  expect((await runCli(['tenants', 'create', 'acme'], cpEnv)).code).toBe(0);
  proxyKey = (await runCli(['keys', 'create', '--tenant', 'acme', '--role', 'proxy'], cpEnv)).stdout.trim();
  analystKey = (
    await runCli(['keys', 'create', '--tenant', 'acme', '--role', 'analyst'], cpEnv)
  ).stdout.trim();
  shim = await startBundleServer({
    token: proxyKey,
    tenant: 'acme',
    policy: BUNDLE_POLICY,
    auditUpstream: cp.url,
  });
}, 120_000);

afterAll(async () => {
  await Promise.all(drivers.map((d) => (d.child.exitCode === null ? d.close() : undefined)));
  await shim?.close();
  if (cp && cp.child.exitCode === null) {
    cp.child.kill('SIGTERM');
    await cp.exited;
  }
  await db?.drop();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('proxy with a control plane', () => {
  it('enforces the signed bundle and pushes its audit events to the ledger', async () => {
    const d = proxy('first');
    await d.handshake();
    await d.request(1, 'tools/list');
    expect(
      (await d.request(2, 'tools/call', { name: 'echo', arguments: { text: 'ok' } })).result?.content?.[0]
        .text,
    ).toBe('ok');
    const denied = await d.request(3, 'tools/call', { name: 'secret' });
    expect(denied.error).toMatchObject({
      code: -32010,
      message: expect.stringContaining('denied by control-plane policy rule "cp-no-exfiltrate"'),
      data: { rule_id: 'cp-no-exfiltrate', policy_source: 'control_plane', policy_version: '1' },
    });
    await d.close();
    const ids = await loggedEventIds('first');
    await waitFor(async () => (await ledger()).length >= ids.length, 15_000);
    const entries = await ledger();
    expect(entries.map((e) => e.event.event_id).sort()).toEqual([...ids].sort());
    const deniedEvent = entries.find((e) => e.event.type === 'tool_call.denied')!.event;
    expect(deniedEvent).toMatchObject({
      tool: 'secret',
      rule_id: 'cp-no-exfiltrate',
      server: 'scripted-mcp',
      client: 'raw-driver',
      request_id: '3',
    });
    expect(deniedEvent.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(deniedEvent.argument_fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(entries.some((e) => e.event.type === 'policy.loaded' && e.event.policy_version === '1')).toBe(
      true,
    );
    expect(JSON.stringify(entries)).not.toContain(proxyKey);
  }, 60_000);

  it('audit written while the control plane is down arrives after it restarts, each event exactly once', async () => {
    const before = new Set((await ledger()).map((e) => e.event.event_id));
    cp.child.kill('SIGTERM');
    await cp.exited;

    // A proxy that keeps running through the outage, and one that exits while the control plane is still down.
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

    cp = await startServer(['--port', '0'], cpEnv);
    shim.setAuditUpstream(cp.url);
    // The running proxy retries on its own; the spool of the one that exited is adopted by the next proxy.
    const next = proxy('after-restart');
    await next.handshake();
    await next.request(1, 'tools/list');

    const expected = [
      ...(await loggedEventIds('through-outage')),
      ...(await loggedEventIds('exits-during-outage')),
      ...(await loggedEventIds('after-restart')),
    ];
    await waitFor(async () => {
      const have = new Set((await ledger()).map((e) => e.event.event_id));
      return expected.every((id) => have.has(id));
    }, 30_000);
    await running.close();
    await next.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const ids = (await ledger()).map((e) => e.event.event_id).filter((id) => !before.has(id));
    const all = [
      ...(await loggedEventIds('through-outage')),
      ...(await loggedEventIds('exits-during-outage')),
      ...(await loggedEventIds('after-restart')),
    ];
    expect(ids.length).toBe(new Set(ids).size);
    expect(new Set(ids)).toEqual(new Set(all));
    expect(next.stderr()).toMatch(/delivering audit events left by 1 earlier proxy run/);
    const verify = await fetch(`${cp.url}/v1/audit/verify`, {
      headers: { authorization: `Bearer ${analystKey}` },
    });
    expect(await verify.json()).toMatchObject({ ok: true });
  }, 120_000);

  it('a tampered cached bundle with the control plane unreachable: exit 1, the server never started', async () => {
    const [sub] = await fs.readdir(path.join(cacheDir(), 'proxy'));
    const file = path.join(cacheDir(), 'proxy', sub, 'bundle.json');
    const bundle = JSON.parse(await fs.readFile(file, 'utf8'));
    bundle.payload.policy.rules = [];
    await fs.writeFile(file, JSON.stringify(bundle));
    await shim.stop();
    const started = path.join(dir, 'started.pid');
    const d = proxy('tampered', { STARTED_FILE: started });
    const exit = await d.exited;
    expect(exit.code).toBe(1);
    expect(d.stderr()).toMatch(
      /refusing to start \(fail closed\): the cached policy bundle .*bundle\.json was refused \(tampered or corrupted\): BAD_SIGNATURE/,
    );
    expect(d.stderr()).toMatch(/the control plane is unreachable/);
    await expect(fs.stat(started)).rejects.toThrow();
    expect(d.lines).toEqual([]);

    // With the control plane back, the same proxy replaces the tampered cache and starts.
    await shim.start();
    const healed = proxy('healed', { STARTED_FILE: started });
    await healed.handshake();
    expect(healed.stderr()).toMatch(/BAD_SIGNATURE/);
    const denied = await healed.request(1, 'tools/call', { name: 'secret' });
    expect(denied.error?.data).toMatchObject({ rule_id: 'cp-no-exfiltrate' });
    await healed.close();
  }, 60_000);
});
