import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { startHttpMcpServer, type HttpMcpServer } from '../helpers/mcp-http.js';

/**
 * Two `agent-bom gateway serve` processes in `postgres` mode share one tenant limit: hammered together from
 * cold for part of one window, they admit the limit in total (within 2%), never each the limit.
 */
const BEARER = 'rate-limit-suite-bearer-token-0123';
const LIMIT = 300;

describe('shared rate limit across two gateway replicas', () => {
  let db: TestDatabase;
  let dir: string;
  let mcp: HttpMcpServer;
  const gateways: GatewayProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-gw-rl-'));
    mcp = await startHttpMcpServer({ tools: ['search'] });
    const overlay = path.join(dir, 'upstreams.yaml');
    await fs.writeFile(overlay, `upstreams:\n  - name: tools\n    url: ${mcp.url}/mcp\n`);
    const args = [
      ...['--bind', '127.0.0.1:0', '--upstreams', overlay, '--bearer-token', BEARER],
      ...['--egress-allow', '127.0.0.1/32'],
      ...['--rate-limit-per-tenant', `${LIMIT}/min`, '--rate-limit-backend', 'postgres'],
    ];
    const env = { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' };
    gateways.push(...(await Promise.all([startGateway(args, env), startGateway(args, env)])));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await mcp?.close();
    await fs.rm(dir, { recursive: true, force: true });
    await db?.drop();
  }, 30_000);

  const send = (url: string, id: number) =>
    fetch(`${url}/mcp/tools`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${BEARER}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }),
    });

  it('admits the limit in total, within 2%, across both replicas', async () => {
    const health = (await (await fetch(`${gateways[0].url}/healthz`)).json()) as { rate_limit: object };
    expect(health.rate_limit).toMatchObject({
      backend: 'postgres',
      limit: `${LIMIT}/min`,
      shared_across_replicas: true,
    });
    // Start right after a window boundary (read from the limiter itself), so the run stays in one window.
    const probe = await send(gateways[0].url, 0);
    const reset = Number(probe.headers.get('ratelimit-reset'));
    await probe.text();
    await db.dataSource.query('DELETE FROM agent_bom_gateway_rate_limits');
    if (reset < 20) await new Promise((resolve) => setTimeout(resolve, reset * 1000 + 300));

    const statuses = new Map<number, number>();
    const perGateway = [0, 0];
    // Until the load has really exceeded the limit (more refused than the limit), within 15 s: the window has
    // at least 20 s left, and a loaded machine that relays slowly still gets there.
    const deadline = Date.now() + 15_000;
    const exceeded = () => (statuses.get(429) ?? 0) > LIMIT;
    let id = 1;
    await Promise.all(
      Array.from({ length: 24 }, async (_, worker) => {
        const which = worker % 2;
        while (Date.now() < deadline && !exceeded()) {
          const res = await send(gateways[which].url, id++);
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 200) perGateway[which]++;
        }
      }),
    );
    const admitted = statuses.get(200) ?? 0;
    const refused = statuses.get(429) ?? 0;
    expect([...statuses.keys()].sort()).toEqual([200, 429]);
    expect(refused).toBeGreaterThan(LIMIT); // the load really exceeded the limit
    expect(Math.abs(admitted - LIMIT) / LIMIT).toBeLessThanOrEqual(0.02);
    expect(perGateway[0]).toBeGreaterThan(0);
    expect(perGateway[1]).toBeGreaterThan(0);
  }, 60_000);
});
