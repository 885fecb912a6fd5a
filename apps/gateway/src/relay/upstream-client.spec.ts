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

describe('UpstreamClient: what each request carries', () => {
  let server: http.Server;
  let port: number;
  const client = new UpstreamClient({
    connections: 2,
    timeoutMs: 2_000,
    egress: new EgressGuard(['127.0.0.1/32']),
  });

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ url: req.url, authorization: req.headers.authorization ?? null }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const seen = async (upstream: Upstream, headers: Record<string, string> = {}) => {
    const response = await client.request(upstream, { method: 'POST', headers, body: '{}' });
    return (await response.body.json()) as { url: string; authorization: string | null };
  };

  it("sends the upstream's credential over a client header of the same name, and the caller's headers as they are", async () => {
    const credentialed = {
      ...upstreamAt(`http://127.0.0.1:${port}/mcp`),
      authHeaders: () => ({ authorization: 'Bearer upstream-secret' }),
    } as Upstream;
    const headers = { authorization: 'Bearer client-token' };
    expect((await seen(credentialed, headers)).authorization).toBe('Bearer upstream-secret');
    expect(headers).toEqual({ authorization: 'Bearer client-token' }); // not written into
    expect((await seen(upstreamAt(`http://127.0.0.1:${port}/mcp`), headers)).authorization).toBe(
      'Bearer client-token',
    );
  });

  it('follows a URL that changed after a first request (its origin and path are not kept stale)', async () => {
    const upstream = upstreamAt(`http://127.0.0.1:${port}/mcp?a=1`);
    expect((await seen(upstream)).url).toBe('/mcp?a=1');
    upstream.url.pathname = '/other';
    upstream.url.search = '';
    expect((await seen(upstream)).url).toBe('/other');
  });

  it('rejects (does not throw) an option undici refuses while dispatching', async () => {
    const pending = client.request(upstreamAt(`http://127.0.0.1:${port}/mcp`), {
      method: 'POST',
      headers: { 'x-bad': 'a\r\nb' },
      body: '{}',
    });
    await expect(pending).rejects.toBeInstanceOf(UpstreamUnavailableError);
  });
});
