import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EgressGuard } from '../../../../libs/runtime/src/index.js';
import type { Upstream } from '../upstreams/upstream.js';
import { UpstreamClient, UpstreamUnavailableError } from './upstream-client.js';

const upstreamAt = (url: string, name = 'up'): Upstream =>
  ({
    tenant: 't1',
    name,
    url: new URL(url),
    transport: 'streamable-http',
    source: 'overlay',
    auth: { kind: 'none' },
    authHeaders: () => ({}),
  }) as Upstream;

/** A port nothing listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('UpstreamClient', () => {
  let server: http.Server;
  let live: string;
  const client = new UpstreamClient({
    connections: 4,
    timeoutMs: 2_000,
    egress: new EgressGuard(['127.0.0.1/32']),
  });

  beforeAll(async () => {
    server = http.createServer((_req, res) => res.writeHead(200, { 'content-length': '2' }).end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    live = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/mcp`;
  });
  afterAll(async () => {
    await client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('relays an answer', async () => {
    const response = await client.request(upstreamAt(live), { method: 'POST', headers: {}, body: '{}' });
    expect(response.statusCode).toBe(200);
    expect(await response.body.text()).toBe('ok');
  });

  it('opens the circuit after 5 failed connections in a row: then fails fast with 503, circuit_open', async () => {
    const dead = upstreamAt(`http://127.0.0.1:${await deadPort()}/mcp`, 'dead');
    for (let i = 0; i < 5; i++) {
      const error = await client.request(dead, { method: 'POST', headers: {} }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UpstreamUnavailableError);
      expect((error as UpstreamUnavailableError).status).toBe(502);
      expect((error as UpstreamUnavailableError).errorClass).toMatch(/^connect_/);
    }
    const fast = await client.request(dead, { method: 'POST', headers: {} }).catch((e: unknown) => e);
    expect(fast).toMatchObject({ status: 503, errorClass: 'circuit_open' });
    expect((fast as UpstreamUnavailableError).retryAfterSeconds).toBeGreaterThan(0);
    // Another upstream is not slowed by it.
    const other = await client.request(upstreamAt(live, 'other'), { method: 'POST', headers: {} });
    expect(other.statusCode).toBe(200);
    await other.body.dump();
  });

  it('refuses by egress what the guard refuses, as a 502 egress_refused (not counted as a failure)', async () => {
    const guarded = new UpstreamClient({ connections: 1, timeoutMs: 2_000, egress: new EgressGuard() });
    try {
      for (let i = 0; i < 6; i++) {
        const error = await guarded
          .request(upstreamAt(live, 'private'), { method: 'POST', headers: {} })
          .catch((e: unknown) => e);
        expect(error).toMatchObject({ status: 502, errorClass: 'egress_refused' });
      }
    } finally {
      await guarded.close();
    }
  });
});
