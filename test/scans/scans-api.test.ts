import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadOsvSource, type MemoryAdvisorySource } from '../../libs/advisories/src/index.js';
import type { Role, ScanReport } from '../../libs/contracts/src/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import { makeScanFixture, OSV_FIXTURES, PLANTED_SECRET, scanFixture, upgradeFixture } from './fixture.js';

/**
 * The scans API on a real PostgreSQL: results push, findings lifecycle (new → resolved → reopened), triage,
 * remediation, and the refusals (`wrong-role`, `cross-tenant`, `bad-input`). Reports are built by the same
 * library `agent-bom scan` uses, from a real fixture home and project.
 */
describe('scans API', () => {
  let t: TestApp;
  let fixture: Awaited<ReturnType<typeof makeScanFixture>>;
  let advisories: MemoryAdvisorySource;
  const keys = new Map<string, string>();
  let alpha: string;
  let beta: string;
  let first: ScanReport;

  const scan = () => scanFixture(fixture, advisories);
  const req = (
    role: string,
    method: 'GET' | 'POST' | 'PATCH',
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ) =>
    t.app.inject({
      method,
      url,
      headers: { ...bearer(keys.get(role)!), ...headers },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
  const count = async (table: string) =>
    ((await t.db.dataSource.query(`SELECT count(*)::int AS n FROM ${table}`)) as Array<{ n: number }>)[0].n;

  beforeAll(async () => {
    t = await startTestApp();
    alpha = await createTenant(t.app);
    beta = await createTenant(t.app);
    for (const role of ['admin', 'analyst', 'viewer', 'fleet-push', 'proxy', 'gateway'] as Role[]) {
      keys.set(role, (await createKey(t.app, alpha, role)).raw);
    }
    keys.set('beta-admin', (await createKey(t.app, beta, 'admin')).raw);
    keys.set('beta-push', (await createKey(t.app, beta, 'fleet-push')).raw);
    fixture = await makeScanFixture();
    advisories = (await loadOsvSource(OSV_FIXTURES)).source;
    first = await scan();
  });
  afterAll(async () => {
    await t.close();
    await fs.rm(fixture.root, { recursive: true, force: true });
  });

  it('push stores the scan and its findings; replays are idempotent; a second push of the same scan is 409', async () => {
    const res = await req('fleet-push', 'POST', '/v1/results/push', first, { 'idempotency-key': 'scan-1' });
    expect(res.statusCode).toBe(201);
    const vulns = first.findings.filter((f) => f.kind === 'vulnerability').length;
    expect(vulns).toBe(5);
    expect(res.json()).toEqual({
      scan_id: first.scan_id,
      source_id: 'laptop-1',
      status: 'stored',
      findings: { reported: first.findings.length, new: first.findings.length, reopened: 0, resolved: 0 },
    });
    const replay = await req('fleet-push', 'POST', '/v1/results/push', first, {
      'idempotency-key': 'scan-1',
    });
    expect(replay.json()).toMatchObject({ idempotent_replay: true, scan_id: first.scan_id });
    const again = await req('fleet-push', 'POST', '/v1/results/push', first);
    expect(again.statusCode).toBe(409);
    expect(await count('scans')).toBe(1);
  });

  it('findings: filters, search, cursor pagination, stable ids, risk scores', async () => {
    const all = await req('viewer', 'GET', '/v1/findings?limit=200');
    expect(all.statusCode).toBe(200);
    const items = all.json().items as Array<Record<string, unknown>>;
    expect(items.map((f) => f.id).sort()).toEqual(first.findings.map((f) => f.id).sort());
    const critical = (await req('viewer', 'GET', '/v1/findings?severity=critical')).json().items;
    expect(critical.map((f: { advisory_id: string }) => f.advisory_id).sort()).toEqual([
      'GHSA-8q59-q68h-6hv4',
      'GHSA-xvch-5gv4-984h',
    ]);
    const lodash = (await req('viewer', 'GET', '/v1/findings?q=lodash')).json().items;
    expect(lodash).toHaveLength(1);
    expect(lodash[0]).toMatchObject({
      fixed_version: '4.17.21',
      servers: ['claude-desktop/local'],
      credentials: ['GITHUB_TOKEN'],
      status: 'open',
    });
    expect(lodash[0].risk_score).toBe(6 + 0.5 + 0.3 + 0.5);
    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/findings?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await req('viewer', 'GET', url)).json() as {
        items: Array<{ id: string }>;
        next_cursor: string | null;
      };
      pages.push(...page.items.map((f: { id: string }) => f.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(pages).toEqual(items.map((f) => f.id));
    const creds = (await req('viewer', 'GET', '/v1/findings?kind=credential_exposure')).json().items;
    expect(creds.map((f: { subject: string }) => f.subject).sort()).toEqual([
      'claude-desktop/github',
      'claude-desktop/local',
      'claude-desktop/remote',
    ]);
  });

  it('scan, jobs and remediation ranked by risk removed, with exact changes', async () => {
    const jobs = (await req('viewer', 'GET', '/v1/jobs')).json();
    expect(jobs.items.map((j: { id: string }) => j.id)).toEqual([first.scan_id]);
    const detail = (await req('viewer', 'GET', `/v1/scan/${first.scan_id}`)).json();
    expect(detail).toMatchObject({ status: 'done', kind: 'pushed', source_id: 'laptop-1' });
    const plan = (await req('viewer', 'GET', `/v1/scan/${first.scan_id}/remediation`)).json();
    expect(plan.total).toBe(5);
    const lodash = plan.remediation_plan.find((p: { name: string }) => p.name === 'lodash');
    expect(lodash).toMatchObject({
      current_version: '4.17.20',
      fixed_version: '4.17.21',
      resolves: ['GHSA-35jh-r3h4-6jhm'],
    });
    expect(lodash.changes[0]).toMatchObject({
      kind: 'lockfile',
      change: expect.stringContaining('lodash@4.17.21'),
    });
    const jinja = plan.remediation_plan.find((p: { name: string }) => p.name === 'jinja2');
    expect(jinja.changes[0].change).toBe('replace jinja2==2.10 with jinja2==2.10.1');
    const fsServer = plan.remediation_plan.find(
      (p: { name: string }) => p.name === '@modelcontextprotocol/server-filesystem',
    );
    expect(fsServer).toMatchObject({ fixed_version: null, unfixed: ['TEST-0001'], changes: [] });
    const risks = plan.remediation_plan.map((p: { risk_removed: number }) => p.risk_removed);
    expect(risks).toEqual([...risks].sort((a, b) => b - a));
    expect((await req('viewer', 'GET', '/v1/remediation')).json().total).toBe(5);
  });

  it('graph and blast radius: a vulnerability reaches the endpoint, agent, server and its credential names', async () => {
    const graph = (await req('viewer', 'GET', '/v1/graph')).json();
    expect(graph.truncated).toBe(false);
    const types = new Set(graph.nodes.map((n: { type: string }) => n.type));
    expect([...types].sort()).toEqual([
      'agent',
      'credential',
      'endpoint',
      'package',
      'server',
      'vulnerability',
    ]);
    const impact = await req(
      'viewer',
      'GET',
      `/v1/graph/impact?node=${encodeURIComponent('vuln:GHSA-35jh-r3h4-6jhm')}`,
    );
    expect(impact.statusCode).toBe(200);
    const body = impact.json();
    expect(body.packages.map((n: { id: string }) => n.id)).toEqual(['pkg:npm/lodash@4.17.20']);
    expect(body.servers.map((n: { id: string }) => n.id)).toEqual(['server:laptop-1/claude-desktop/local']);
    expect(body.agents.map((n: { id: string }) => n.id)).toEqual(['agent:laptop-1/claude-desktop']);
    expect(body.endpoints.map((n: { id: string }) => n.id)).toEqual(['endpoint:laptop-1']);
    expect(body.credentials.map((n: { label: string }) => n.label)).toEqual(['GITHUB_TOKEN']);
    // The edges of the blast radius (every stored edge between two of its nodes), enough to draw it alone.
    const server = 'server:laptop-1/claude-desktop/local';
    expect(body.edges).toEqual([
      { src: 'agent:laptop-1/claude-desktop', dst: server, kind: 'configures' },
      { src: 'endpoint:laptop-1', dst: 'agent:laptop-1/claude-desktop', kind: 'has_agent' },
      { src: 'pkg:npm/lodash@4.17.20', dst: 'vuln:GHSA-35jh-r3h4-6jhm', kind: 'affected_by' },
      { src: server, dst: `cred:${server}/GITHUB_TOKEN`, kind: 'uses_credential' },
      { src: server, dst: 'pkg:npm/lodash@4.17.20', kind: 'runs' },
    ]);
    expect(body.counts).toEqual({
      endpoints: 1,
      agents: 1,
      servers: 1,
      packages: 1,
      vulnerabilities: 0,
      tools: 0,
      credentials: 1,
    });
    const pkg = (
      await req('viewer', 'GET', `/v1/graph/impact?node=${encodeURIComponent('pkg:npm/minimist@1.2.5')}`)
    ).json();
    expect(pkg.vulnerabilities.map((n: { id: string }) => n.id)).toEqual(['vuln:GHSA-xvch-5gv4-984h']);
    const project = (
      await req('viewer', 'GET', `/v1/graph/impact?node=${encodeURIComponent('vuln:GHSA-462w-v97r-4m45')}`)
    ).json();
    expect(project).toMatchObject({ servers: [], endpoints: [{ id: 'endpoint:laptop-1' }] });
    // A project-only package hangs off the endpoint itself; no server edge joins the answer.
    expect(project.edges.map((e: { kind: string }) => e.kind)).toEqual(['runs', 'affected_by']);
    expect((await req('viewer', 'GET', '/v1/graph/impact?node=vuln:NOPE')).statusCode).toBe(404);
    expect((await req('viewer', 'GET', '/v1/graph/impact?node=nonsense')).statusCode).toBe(400);
    expect((await req('viewer', 'GET', '/v1/graph/impact')).statusCode).toBe(400);
    expect((await req('fleet-push', 'GET', '/v1/graph')).statusCode).toBe(403);
    expect(
      (
        await req(
          'beta-admin',
          'GET',
          `/v1/graph/impact?node=${encodeURIComponent('vuln:GHSA-35jh-r3h4-6jhm')}`,
        )
      ).statusCode,
    ).toBe(404);
    expect((await req('beta-admin', 'GET', '/v1/graph')).json().nodes).toEqual([]);
  });

  it('a second scan after upgrading resolves the vulnerabilities; they keep their ids and first_seen', async () => {
    await upgradeFixture(fixture);
    const second = await scan();
    const res = await req('fleet-push', 'POST', '/v1/results/push', second);
    expect(res.statusCode).toBe(201);
    expect(res.json().findings.resolved).toBe(4);
    const open = (await req('viewer', 'GET', '/v1/findings?kind=vulnerability')).json().items;
    expect(open.map((f: { advisory_id: string }) => f.advisory_id)).toEqual(['TEST-0001']);
    const resolved = (await req('viewer', 'GET', '/v1/findings?status=resolved')).json().items;
    expect(resolved).toHaveLength(4);
    for (const f of resolved) expect(f.resolved_at).not.toBeNull();
    expect((await req('viewer', 'GET', `/v1/scan/${second.scan_id}/remediation`)).json().total).toBe(1);
    const gone = await req(
      'viewer',
      'GET',
      `/v1/graph/impact?node=${encodeURIComponent('vuln:GHSA-35jh-r3h4-6jhm')}`,
    );
    expect(gone.statusCode).toBe(404);
  });

  it('triage: analyst accepts a risk with reason and expiry (audited); risk score drops to 0', async () => {
    const target = first.findings.find((f) => f.advisory_id === 'TEST-0001')!;
    const expires = new Date(Date.now() + 86_400_000).toISOString();
    const res = await req('analyst', 'PATCH', `/v1/findings/${target.id}/triage`, {
      state: 'accepted_risk',
      reason: 'sandboxed',
      expires_at: expires,
    });
    expect(res.statusCode).toBe(200);
    const f = (await req('viewer', 'GET', '/v1/findings?triage=accepted_risk')).json().items[0];
    expect(f).toMatchObject({
      id: target.id,
      risk_score: 0,
      triage: { state: 'accepted_risk', reason: 'sandboxed', expires_at: expires },
    });
    const audit = await t.db.dataSource.query(
      `SELECT type FROM audit_entries WHERE type = 'finding.triaged'`,
    );
    expect(audit).toHaveLength(1);
  });

  it('secrets: a planted credential value is redacted server-side even from a hostile client', async () => {
    const hostile = structuredClone(first);
    hostile.scan_id = '0b5f8f3e-7f0e-4c5a-9d1e-2a3b4c5d6e7f';
    hostile.source_id = 'hostile-client';
    hostile.agents[0].servers[0].args = ['--token', PLANTED_SECRET];
    hostile.agents[0].servers.push({
      name: 'leaky',
      transport: 'https',
      url: `https://u:${PLANTED_SECRET}@x.example/mcp?api_key=${PLANTED_SECRET}`,
      auth_mode: 'url',
      config_path: '/c.json',
    });
    // Fields the CLI never fills with secrets, but a hostile client can: every one is scrubbed on ingest.
    hostile.agents[0].servers[0].command = `/opt/run-with-${PLANTED_SECRET}`;
    const loose = hostile as unknown as Record<string, unknown>; // the schema's open-ended objects take anything
    loose.endpoint = { hostname: 'h', note: `token=${PLANTED_SECRET}` };
    loose.summary = { nested: [{ [`key ${PLANTED_SECRET}`]: `Bearer ${PLANTED_SECRET}` }] };
    if (hostile.findings[0]) hostile.findings[0].title = `leaked ${PLANTED_SECRET}`;
    const res = await req('fleet-push', 'POST', '/v1/results/push', hostile);
    expect(res.statusCode).toBe(201);
    const stored = JSON.stringify(
      await t.db.dataSource.query(`SELECT report FROM scans WHERE id = $1`, [hostile.scan_id]),
    );
    expect(stored).not.toContain(PLANTED_SECRET);
    expect(stored).toContain('[redacted]');
    expect((await req('viewer', 'GET', `/v1/scan/${hostile.scan_id}`)).body).not.toContain(PLANTED_SECRET);
    expect(t.logs.join('\n')).not.toContain(PLANTED_SECRET);
  });

  it('enrollment: an enrolled endpoint reports only with its own credential; other keys are refused and audited', async () => {
    // The endpoint enrolls through its first fleet sync with the shared key and gets its credential.
    const sync = await req('fleet-push', 'POST', '/v1/fleet/sync', {
      source_id: 'enrolled-laptop',
      agents: [],
    });
    expect(sync.statusCode).toBe(200);
    const credential = sync.json().endpoint_credential as string;
    expect(credential).toMatch(/^abom_/);
    const report = structuredClone(first);
    report.scan_id = '5d7c1e2a-3b4c-4d5e-8f90-a1b2c3d4e5f6';
    report.source_id = 'enrolled-laptop';
    report.findings = []; // what an attacker would push to "resolve" the laptop's findings
    const scansBefore = await count('scans');

    const shared = await req('fleet-push', 'POST', '/v1/results/push', report);
    expect(shared.statusCode).toBe(403);
    expect(shared.json().error.details).toMatchObject({ reason: 'enrolled', source_id: 'enrolled-laptop' });
    const otherSource = await t.app.inject({
      method: 'POST',
      url: '/v1/results/push',
      headers: bearer(credential),
      payload: { ...report, source_id: 'laptop-1' },
    });
    expect(otherSource.statusCode).toBe(403);
    expect(otherSource.json().error.details).toMatchObject({ reason: 'other_endpoint' });
    expect(await count('scans')).toBe(scansBefore);
    const refused = (
      (await t.db.dataSource.query(
        `SELECT event FROM audit_entries WHERE tenant_id = $1 AND type = 'fleet.push_refused' ORDER BY seq`,
        [alpha],
      )) as Array<{ event: { resource_id: string; details: { reason: string } } }>
    ).map((r) => `${r.event.resource_id}:${r.event.details.reason}`);
    expect(refused).toEqual(['enrolled-laptop:enrolled', 'laptop-1:other_endpoint']);

    const own = await t.app.inject({
      method: 'POST',
      url: '/v1/results/push',
      headers: bearer(credential),
      payload: report,
    });
    expect(own.statusCode).toBe(201);
    expect(await count('scans')).toBe(scansBefore + 1);
  });

  describe('wrong-role', () => {
    it.each([
      ['viewer', 'POST', '/v1/results/push'],
      ['proxy', 'POST', '/v1/results/push'],
      ['gateway', 'POST', '/v1/results/push'],
      ['fleet-push', 'GET', '/v1/findings'],
      ['fleet-push', 'GET', '/v1/jobs'],
      ['fleet-push', 'GET', '/v1/remediation'],
      ['proxy', 'GET', '/v1/findings'],
      ['gateway', 'GET', '/v1/jobs'],
      ['viewer', 'PATCH', '/v1/findings/f_000000000000000000000000/triage'],
      ['fleet-push', 'PATCH', '/v1/findings/f_000000000000000000000000/triage'],
    ] as const)('%s: %s %s → 403', async (role, method, url) => {
      const before = await count('scans');
      const res = await req(role, method, url, method === 'GET' ? undefined : { state: 'open' });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
      expect(await count('scans')).toBe(before);
    });
  });

  describe('cross-tenant', () => {
    it('another tenant sees none of it: 404 for objects, empty lists', async () => {
      expect((await req('beta-admin', 'GET', `/v1/scan/${first.scan_id}`)).statusCode).toBe(404);
      expect((await req('beta-admin', 'GET', `/v1/scan/${first.scan_id}/remediation`)).statusCode).toBe(404);
      expect((await req('beta-admin', 'GET', '/v1/findings?status=all')).json().items).toEqual([]);
      expect((await req('beta-admin', 'GET', '/v1/jobs')).json().items).toEqual([]);
      expect((await req('beta-admin', 'GET', '/v1/remediation')).json().total).toBe(0);
      const id = first.findings[0].id;
      const triage = await req('beta-admin', 'PATCH', `/v1/findings/${id}/triage`, {
        state: 'false_positive',
        reason: 'x',
      });
      expect(triage.statusCode).toBe(404);
      const [row] = await t.db.dataSource.query(
        `SELECT triage FROM findings WHERE tenant_id = $1 AND id = $2 LIMIT 1`,
        [alpha, id],
      );
      expect(row.triage).not.toBe('false_positive');
    });

    it('the same scan id pushed by another tenant is stored separately and does not touch the first', async () => {
      const res = await req('beta-push', 'POST', '/v1/results/push', first);
      expect(res.statusCode).toBe(201);
      expect(res.json().findings.new).toBe(first.findings.length);
      const alphaOpen = (
        await req('viewer', 'GET', '/v1/findings?kind=vulnerability&source_id=laptop-1')
      ).json().items;
      expect(alphaOpen.map((f: { advisory_id: string }) => f.advisory_id)).toEqual(['TEST-0001']);
    });
  });

  describe('bad-input', () => {
    const valid = () => ({ ...structuredClone(first), scan_id: '9d7c6b5a-4f3e-4d2c-8b1a-0f9e8d7c6b5a' });
    type Build = (r: ScanReport) => unknown;
    const cases: Array<[string, Build, string]> = [
      ['no body fields', () => ({}), 'schema_version'],
      ['unknown top-level field', () => ({ ...valid(), extra: 1 }), 'body'],
      ['bad scan id', () => ({ ...valid(), scan_id: 'nope' }), 'scan_id'],
      ['bad source id', () => ({ ...valid(), source_id: '../x' }), 'source_id'],
      [
        'bad finding id',
        (r) => ({ ...valid(), findings: [{ ...r.findings[0], id: 'f_../../etc' }] }),
        'findings.0.id',
      ],
      [
        'bad severity',
        (r) => ({ ...valid(), findings: [{ ...r.findings[0], severity: 'apocalyptic' }] }),
        'findings.0.severity',
      ],
      [
        'duplicate finding ids',
        (r) => ({ ...valid(), findings: [r.findings[0], r.findings[0]] }),
        'findings.1.id',
      ],
      [
        'bad transport',
        (r) => ({
          ...valid(),
          agents: [{ ...r.agents[0], servers: [{ ...r.agents[0].servers[0], transport: 'carrier-pigeon' }] }],
        }),
        'agents.0.servers.0.transport',
      ],
    ];
    it.each(cases)('push with %s → 400 naming the field, nothing written', async (_label, build, field) => {
      const body = build(first);
      const before = [await count('scans'), await count('findings')];
      const res = await req('fleet-push', 'POST', '/v1/results/push', body);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_ERROR');
      expect(res.json().error.message.startsWith(field === 'body' ? '' : field)).toBe(true);
      expect([await count('scans'), await count('findings')]).toEqual(before);
    });

    it.each([
      '/v1/findings?severity=apocalyptic',
      '/v1/findings?status=maybe',
      '/v1/findings?cursor=not-a-cursor',
      '/v1/findings?limit=100000',
      '/v1/findings?scan_id=nope',
      '/v1/jobs?cursor=abc',
      '/v1/scan/not-a-uuid',
      '/v1/scan/not-a-uuid/remediation',
    ])('GET %s → 400', async (url) => {
      const res = await req('viewer', 'GET', url);
      expect(res.statusCode).toBe(400);
    });

    it('triage refuses missing reasons, past expiries, unknown states and bad ids', async () => {
      const id = first.findings[0].id;
      for (const [body, status] of [
        [{ state: 'accepted_risk' }, 400],
        [{ state: 'accepted_risk', reason: 'x', expires_at: '2001-01-01T00:00:00Z' }, 400],
        [{ state: 'false_positive', reason: 'x', expires_at: '2999-01-01T00:00:00Z' }, 400],
        [{ state: 'ignored', reason: 'x' }, 400],
        [{ state: 'open', extra: true }, 400],
      ] as const) {
        expect((await req('analyst', 'PATCH', `/v1/findings/${id}/triage`, body)).statusCode).toBe(status);
      }
      expect(
        (await req('analyst', 'PATCH', '/v1/findings/..%2F..%2Fetc/triage', { state: 'open' })).statusCode,
      ).toBe(400);
      expect(
        (await req('analyst', 'PATCH', '/v1/findings/f_ffffffffffffffffffffffff/triage', { state: 'open' }))
          .statusCode,
      ).toBe(404);
    });
  });
});
