import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort, startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { startHttpMcpServer, type HttpMcpServer } from '../helpers/mcp-http.js';
import { makeIdpKey, TestIdp } from '../helpers/oidc-idp.js';
import { runCli, startServer, waitFor, type Server } from '../helpers/processes.js';

/**
 * The gateway edge of SSO (issue 11, item 6): an MCP SDK client with an access token from the company IdP calls a
 * tool through a real gateway; the issuers come from a real control plane (its deployment-wide issuer and a
 * tenant-bound one), the IdPs are real `oidc-provider`s on loopback, the audience is the gateway's own resource.
 */
describe('gateway: OIDC access tokens and RFC 9728 protected-resource metadata', () => {
  let db: TestDatabase;
  let cp: Server;
  let gateway: GatewayProcess;
  let idpA: TestIdp; // deployment-wide issuer (AGENT_BOM_OIDC_ISSUER): tokens name their tenant
  let idpB: TestIdp; // bound to tenant-b by a platform admin
  let stranger: TestIdp; // trusted by nobody
  let alpha: HttpMcpServer;
  let beta: HttpMcpServer;
  let work: string;
  let publicUrl: string;
  let resource: string;
  const keys: Record<string, string> = {};
  const CP_AUDIENCE = 'api://agent-bom';
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  /** Refusals a tenant's ledger holds for access tokens (pushed by the gateway as `request.refused`). */
  const ledgerRefusals = async (tenant: 'tenant-a' | 'tenant-b') => {
    const res = await fetch(`${cp.url}/v1/audit?type=request.refused&limit=500`, {
      headers: { authorization: `Bearer ${tenant === 'tenant-a' ? keys.analystA : keys.analystB}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: Array<{ event: Record<string, unknown> }> };
    return body.items
      .map((item) => item.event)
      .filter((event) => String(event.reason ?? '').startsWith('access token refused'));
  };
  const auditFileLines = () =>
    readFileSync(path.join(work, 'gateway-audit.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  /** The token's signature part: no record of a refusal may contain it (or the token). */
  const signatureOf = (token: string) => token.split('.')[2] || token;

  const connect = async (upstream: string, token: string) => {
    const client = new Client({ name: 'e2e-oidc', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp/${upstream}`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    return client;
  };
  const initialize = (upstream: string, token?: string) =>
    fetch(`${gateway.url}/mcp/${upstream}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      }),
    });

  beforeAll(async () => {
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    resource = `${publicUrl}/mcp`;
    // The metadata lists issuers sorted; the SDK logs in at the first: give A's IdP the port that sorts first.
    const [portA, portB] = [await freePort(), await freePort()].sort();
    idpA = await TestIdp.start({
      port: portA,
      keys: [await makeIdpKey('a1'), await makeIdpKey('a2', 'RS256')],
      audience: resource,
      serviceClients: {
        'svc-a': { tenant_id: 'tenant-a', agent_bom_role: 'analyst' },
        'svc-c': { tenant_id: 'tenant-c' },
        'svc-a-claims-b': { tenant_id: 'tenant-b' },
      },
    });
    idpB = await TestIdp.start({
      port: portB,
      keys: [await makeIdpKey('b1', 'RS256')],
      audience: resource,
      serviceClients: { 'svc-b': {} },
    });
    stranger = await TestIdp.start({ keys: [await makeIdpKey('s1')], audience: resource });

    db = await createTestDatabase();
    const env = {
      ...process.env,
      DATABASE_URL: db.url,
      LOG_LEVEL: 'warn',
      AGENT_BOM_OIDC_ISSUER: idpA.issuer,
      AGENT_BOM_OIDC_AUDIENCE: CP_AUDIENCE,
    };
    cp = await startServer(['--port', '0'], env);
    for (const tenant of ['tenant-a', 'tenant-b', 'tenant-c', 'ops']) {
      expect((await runCli(['tenants', 'create', tenant], env)).code).toBe(0);
    }
    const key = async (tenant: string, role: string) => {
      const created = await runCli(['keys', 'create', '--tenant', tenant, '--role', role], env);
      expect(created.code).toBe(0);
      return created.stdout.trim();
    };
    keys.gatewayA = await key('tenant-a', 'gateway');
    keys.gatewayB = await key('tenant-b', 'gateway');
    keys.platform = await key('ops', 'platform-admin');
    keys.analystA = await key('tenant-a', 'analyst');
    keys.analystB = await key('tenant-b', 'analyst');
    keys.adminA = await key('tenant-a', 'admin');
    const bound = await fetch(`${cp.url}/v1/tenants/tenant-b/oidc`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${keys.platform}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        issuer: idpB.issuer,
        audience: CP_AUDIENCE,
        group_roles: { 'laptop-agents': 'fleet-push' },
      }),
    });
    expect(bound.status).toBe(200);

    alpha = await startHttpMcpServer({ name: 'alpha', tools: ['alpha_search'], answer: 'alpha says hi' });
    beta = await startHttpMcpServer({ name: 'beta', tools: ['beta_search'], answer: 'beta says hi' });
    work = mkdtempSync(path.join(tmpdir(), 'agent-bom-gw-oidc-'));
    const overlay = path.join(work, 'upstreams.yaml');
    writeFileSync(
      overlay,
      [
        'upstreams:',
        `  - { name: alpha, url: "${alpha.url}/mcp", auth: none, tenant: tenant-a }`,
        `  - { name: beta, url: "${beta.url}/mcp", auth: none, tenant: tenant-b }`,
        '',
      ].join('\n'),
    );
    gateway = await startGateway(
      [
        ...['--bind', `127.0.0.1:${port}`, '--from-control-plane', cp.url, '--upstreams', overlay],
        ...['--control-plane-token', keys.gatewayA, '--control-plane-token', keys.gatewayB],
        ...['--egress-allow', '127.0.0.1/32'],
        ...['--audit-file', path.join(work, 'gateway-audit.jsonl')],
      ],
      {
        ...process.env,
        LOG_LEVEL: 'info',
        AGENT_BOM_GATEWAY_PUBLIC_URL: publicUrl,
        AGENT_BOM_GATEWAY_AUDIT_FLUSH_MS: '50',
        AGENT_BOM_GATEWAY_REFUSALS_AUDITED_PER_MINUTE: '12',
        AGENT_BOM_GATEWAY_SCIM_CACHE_SECONDS: '1',
      },
    );
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    await Promise.all([alpha?.close(), beta?.close()]);
    cp?.child.kill('SIGTERM');
    await cp?.exited;
    await db?.drop();
    await Promise.all([idpA?.stop(), idpB?.stop(), stranger?.stop()]);
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('serves the RFC 9728 metadata without a credential: the resource and its tenants’ issuers', async () => {
    const metadata = (issuers: string[]) => ({
      resource,
      authorization_servers: issuers,
      bearer_methods_supported: ['header'],
      resource_name: 'agent-bom gateway',
    });
    const both = [idpA.issuer, idpB.issuer].sort();
    // The root forms list every served tenant's issuer; an upstream's own document only the issuers of the
    // tenants that have that upstream (alpha: tenant A, deployment-wide IdP; beta: tenant B, its own IdP).
    const expected: Array<[string, string[]]> = [
      ['', both],
      ['/mcp', both],
      ['/mcp/alpha', [idpA.issuer]],
      ['/mcp/beta', [idpB.issuer]],
      ['/mcp/no-such-upstream', both],
    ];
    for (const [suffix, issuers] of expected) {
      const res = await fetch(`${gateway.url}/.well-known/oauth-protected-resource${suffix}`);
      expect({ suffix, status: res.status }).toEqual({ suffix, status: 200 });
      expect(res.headers.get('content-type')).toContain('application/json');
      expect({ suffix, body: await res.json() }).toEqual({ suffix, body: metadata(issuers) });
    }
    // Public means these paths only, and reading only: the relay next to them still needs a credential.
    expect((await initialize('alpha')).status).toBe(401);
    expect((await fetch(`${gateway.url}/.well-known/oauth-protected-resource/sse`)).status).toBe(404);
    expect((await fetch(`${gateway.url}/.well-known/oauth-protected-resource/mcp/a/b`)).status).toBe(404);
    const post = await fetch(`${gateway.url}/.well-known/oauth-protected-resource/mcp`, { method: 'POST' });
    expect(post.status).toBe(404);
  });

  it('a 401 names the upstream’s metadata in WWW-Authenticate, as the MCP authorization spec asks', async () => {
    for (const upstream of ['alpha', 'beta']) {
      const res = await initialize(upstream);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(
        `Bearer realm="agent-bom-gateway", resource_metadata="${publicUrl}/.well-known/oauth-protected-resource/mcp/${upstream}"`,
      );
    }
  });

  it("an SDK client with tenant A's access token from the IdP calls a tool of tenant A", async () => {
    const token = await idpA.serviceToken('svc-a');
    const client = await connect('alpha', token);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['alpha_search']);
    const result = await client.callTool({ name: 'alpha_search', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'alpha says hi' }]);
    await client.close();
    expect(alpha.authorizations.some((a) => a?.includes(token))).toBe(false); // the token stays at the edge
  });

  it('an SDK client with no token logs in by itself: 401 → metadata → the IdP (client credentials) → the tool', async () => {
    const client = new Client({ name: 'e2e-oidc-auth', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp/alpha`), {
        authProvider: new ClientCredentialsProvider({
          clientId: 'svc-a',
          clientSecret: 'svc-a-secret-0123456789abcdef',
          expectedIssuer: idpA.issuer,
          scope: 'api',
        }),
      }),
    );
    const result = await client.callTool({ name: 'alpha_search', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'alpha says hi' }]);
    await client.close();
  });

  it("an SDK client of tenant B logs in by itself at B's IdP (not the first issuer of the gateway)", async () => {
    // idpA's issuer sorts first: a client reading the root document would go there and fail.
    const client = new Client({ name: 'e2e-oidc-auth-b', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp/beta`), {
        authProvider: new ClientCredentialsProvider({
          clientId: 'svc-b',
          clientSecret: 'svc-b-secret-0123456789abcdef',
          expectedIssuer: idpB.issuer,
          scope: 'api',
        }),
      }),
    );
    const result = await client.callTool({ name: 'beta_search', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'beta says hi' }]);
    await client.close();
  });

  it("a token of tenant B (its own IdP) calls B's tool and reaches nothing of A", async () => {
    const tokenB = await idpB.serviceToken('svc-b');
    const client = await connect('beta', tokenB);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['beta_search']);
    await client.close();
    const before = alpha.methods.length;
    await expect(connect('alpha', tokenB)).rejects.toThrow();
    expect((await initialize('alpha', tokenB)).status).toBe(404);
    expect(alpha.methods.length).toBe(before);
    // And A's token reaches nothing of B.
    expect((await initialize('beta', await idpA.serviceToken('svc-a'))).status).toBe(404);
  });

  it('a valid token whose role may not relay (a group mapped to a machine role) is a 403, relayed nowhere', async () => {
    const before = beta.methods.length;
    const token = await idpB.sign({ sub: 'laptop-1', groups: ['laptop-agents'] });
    const res = await initialize('beta', token);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(beta.methods.length).toBe(before);
    // Audited in B's ledger with its reason code, naming who, never the token.
    await waitFor(
      async () =>
        (await ledgerRefusals('tenant-b')).some(
          (e) => e.reason === 'access token refused: role_may_not_relay' && e.agent === 'oidc:laptop-1',
        ),
      5000,
    );
    expect(JSON.stringify(await ledgerRefusals('tenant-b'))).not.toContain(signatureOf(token));
  });

  describe('refusals: each a 401 with the metadata challenge, relayed nowhere, audited where a tenant is known', () => {
    const now = () => Math.floor(Date.now() / 1000);
    /** [name, token, reason, the ledger that gets it (undefined: no tenant's ledger, only the local audit file)] */
    const cases: Array<[string, () => Promise<string>, string, 'tenant-a' | 'tenant-b' | undefined]> = [
      [
        'expired',
        () => idpA.sign({ sub: 'x', tenant_id: 'tenant-a', iat: now() - 900, exp: now() - 300 }),
        'expired',
        'tenant-a',
      ],
      [
        'wrong audience (the control plane’s)',
        () => idpA.sign({ sub: 'x', tenant_id: 'tenant-a', aud: CP_AUDIENCE }),
        'wrong_audience',
        'tenant-a',
      ],
      [
        'wrong issuer (an IdP nobody trusts)',
        () => stranger.sign({ sub: 'x', tenant_id: 'tenant-a' }),
        'unknown_issuer',
        undefined,
      ],
      [
        'alg none',
        async () =>
          `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: idpA.issuer, aud: resource, sub: 'x', tenant_id: 'tenant-a', iat: now(), exp: now() + 300 })}.`,
        'algorithm_not_allowed',
        'tenant-a',
      ],
      [
        'a tenant the gateway does not serve',
        () => idpA.serviceToken('svc-c'),
        'tenant_not_bound',
        undefined,
      ],
      [
        'the deployment-wide issuer naming a tenant with its own IdP',
        () => idpA.serviceToken('svc-a-claims-b'),
        'tenant_not_bound',
        'tenant-b',
      ],
      [
        "B's IdP naming tenant A",
        () => idpB.sign({ sub: 'x', tenant_id: 'tenant-a' }),
        'tenant_not_bound',
        'tenant-b',
      ],
      [
        'no tenant claim from the deployment-wide issuer',
        () => idpA.sign({ sub: 'x' }),
        'missing_tenant_claim',
        undefined,
      ],
    ];
    it.each(cases)('%s', async (_name, makeToken, reason, ledger) => {
      const token = await makeToken();
      const before = alpha.methods.length + beta.methods.length;
      const counts = {
        a: (await ledgerRefusals('tenant-a')).length,
        b: (await ledgerRefusals('tenant-b')).length,
      };
      const linesBefore = auditFileLines().length;
      const res = await initialize('alpha', token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(
        `Bearer realm="agent-bom-gateway", resource_metadata="${publicUrl}/.well-known/oauth-protected-resource/mcp/alpha", error="invalid_token"`,
      );
      expect(alpha.methods.length + beta.methods.length).toBe(before);
      await waitFor(() => gateway.output().includes(`access token refused: ${reason}`), 5000);
      const expected = `access token refused: ${reason}`;
      if (ledger) {
        const had = ledger === 'tenant-a' ? counts.a : counts.b;
        await waitFor(async () => (await ledgerRefusals(ledger)).length > had, 5000);
        const events = await ledgerRefusals(ledger); // newest first
        expect(events[0]).toMatchObject({ type: 'request.refused', decision: 'deny', reason: expected });
        expect(JSON.stringify(events)).not.toContain(signatureOf(token));
        // …and in its ledger only.
        const other = ledger === 'tenant-a' ? 'tenant-b' : 'tenant-a';
        expect((await ledgerRefusals(other)).length).toBe(other === 'tenant-a' ? counts.a : counts.b);
      } else {
        // No tenant can be trusted: in no tenant's ledger, but in the gateway's own audit file, without a tenant.
        const mine = () =>
          auditFileLines()
            .slice(linesBefore)
            .find((l) => String(l.reason).startsWith(expected)); // `… (issuer <iss>)`: the operator's file only
        await waitFor(() => mine() !== undefined, 5000);
        const line = mine();
        expect(line).toMatchObject({ type: 'request.refused', decision: 'deny' });
        expect(line).not.toHaveProperty('tenant');
        await new Promise((resolve) => setTimeout(resolve, 300)); // a push would have landed by now
        expect((await ledgerRefusals('tenant-a')).length).toBe(counts.a);
        expect((await ledgerRefusals('tenant-b')).length).toBe(counts.b);
      }
      expect(readFileSync(path.join(work, 'gateway-audit.jsonl'), 'utf8')).not.toContain(signatureOf(token));
      expect(gateway.output()).not.toContain(signatureOf(token));
    });

    it('a spray of bad tokens cannot flood a tenant’s ledger: at most the per-minute cap is recorded', async () => {
      const before = (await ledgerRefusals('tenant-a')).length;
      for (let i = 0; i < 20; i++) {
        const token = await idpA.sign({
          sub: `spray-${i}`,
          tenant_id: 'tenant-a',
          iat: now() - 900,
          exp: now() - 300,
        });
        expect((await initialize('alpha', token)).status).toBe(401);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      await waitFor(async () => (await ledgerRefusals('tenant-a')).length > before, 5000);
      // The cap (12 a minute here) counts every refusal of the tenant in the window, the cases above included.
      expect((await ledgerRefusals('tenant-a')).length).toBeLessThanOrEqual(12);
      expect((await ledgerRefusals('tenant-a')).length - before).toBeLessThan(20);
    });
  });

  describe('SCIM at the gateway edge (the real SCIM API of the control plane)', () => {
    let scimToken: string;
    const scim = (method: string, url: string, payload?: object) =>
      fetch(`${cp.url}${url}`, {
        method,
        headers: {
          authorization: `Bearer ${scimToken}`,
          ...(payload ? { 'content-type': 'application/scim+json' } : {}),
        },
        body: payload ? JSON.stringify(payload) : undefined,
      });
    const setActive = async (id: string, active: boolean) => {
      const res = await scim('PATCH', `/scim/v2/Users/${id}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', value: { active } }],
      });
      expect(res.status).toBe(200);
    };
    /** Polls the gateway until it answers `want` for the token, within the SCIM cache TTL (1 s here) and a margin. */
    const within = async (token: string, want: number) => {
      let last = 0;
      const deadline = Date.now() + 9000; // the SCIM TTL (1 s) plus the negative cache (5 s) and a margin
      while (Date.now() < deadline) {
        last = (await initialize('alpha', token)).status;
        if (last === want) return last;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return last;
    };

    beforeAll(async () => {
      const res = await fetch(`${cp.url}/v1/auth/scim-token`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys.adminA}` },
      });
      expect(res.status).toBe(201);
      scimToken = ((await res.json()) as { token: string }).token;
    });

    it('a person SCIM deactivates is refused within the TTL with the token already issued; reactivated, let in again', async () => {
      const created = await scim('POST', '/scim/v2/Users', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'alice@a.example',
        externalId: 'alice-idp-id',
        active: true,
      });
      expect(created.status).toBe(201);
      const id = ((await created.json()) as { id: string }).id;
      // A token that carries only the IdP's user id (sub ↔ externalId), as Entra ID's often do.
      const token = await idpA.sign({
        sub: 'alice-idp-id',
        tenant_id: 'tenant-a',
        agent_bom_role: 'analyst',
      });
      expect((await initialize('alpha', token)).status).toBe(200);
      await setActive(id, false);
      expect(await within(token, 401)).toBe(401);
      // Logged and audited like every refusal (tenant A's ledger cap is spent by the spray test above).
      await waitFor(() => gateway.output().includes('access token refused: user_deactivated'), 5000);
      await setActive(id, true);
      expect(await within(token, 200)).toBe(200);
    });

    it('a person SCIM deletes is refused with a token issued before the deletion', async () => {
      const created = await scim('POST', '/scim/v2/Users', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'bob@a.example',
        active: true,
      });
      const id = ((await created.json()) as { id: string }).id;
      const token = await idpA.sign({ sub: 'bob-sub', email: 'bob@a.example', tenant_id: 'tenant-a' });
      expect((await initialize('alpha', token)).status).toBe(200);
      expect((await scim('DELETE', `/scim/v2/Users/${id}`)).status).toBe(204);
      expect(await within(token, 401)).toBe(401);
      await waitFor(() => gateway.output().includes('access token refused: user_deleted'), 5000);
    });

    it('a subject SCIM never provisioned is unaffected', async () => {
      const token = await idpA.sign({ sub: 'carol', email: 'carol@a.example', tenant_id: 'tenant-a' });
      expect((await initialize('alpha', token)).status).toBe(200);
    });
  });

  it('/healthz names oidc among the incoming methods', async () => {
    const health = (await (await fetch(`${gateway.url}/healthz`)).json()) as {
      auth: { methods: string[] };
    };
    expect(health.auth.methods).toEqual(['api_key', 'oidc']);
  });
});
