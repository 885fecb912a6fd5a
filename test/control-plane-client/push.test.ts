import { afterEach, describe, expect, it } from '@jest/globals';
import type { FleetSyncPayload } from '../../libs/contracts/src/index.js';
import {
  ControlPlaneClient,
  ControlPlaneError,
  resolvePushUrl,
  type ControlPlaneClientOptions,
} from '../../libs/control-plane-client/src/index.js';
import {
  envelope,
  startScriptedServer,
  type ScriptedResponse,
  type ScriptedServer,
} from '../helpers/scripted-http.js';

/** The push client against a real loopback HTTP server that scripts the control plane's answers. */
const KEY = 'abom_' + 'k'.repeat(43);
const payload: FleetSyncPayload = {
  source_id: 'ep-test',
  agents: [{ name: 'cursor', client: 'cursor', servers: [] }],
};
const ok = { status: 200, body: { source_id: 'ep-test', synced: 1, new: 1, updated: 0 } };

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function push(script: ScriptedResponse[], options: Partial<ControlPlaneClientOptions> = {}) {
  server = await startScriptedServer(script);
  const delays: number[] = [];
  const retries: string[] = [];
  const client = new ControlPlaneClient({
    baseUrl: server.url,
    apiKey: KEY,
    baseDelayMs: 10,
    maxDelayMs: 50,
    sleep: async (ms) => {
      delays.push(ms);
      await new Promise((resolve) => setTimeout(resolve, Math.min(ms, 20)));
    },
    onRetry: (retry) => retries.push(JSON.stringify(retry)),
    ...options,
  });
  const outcome = await client.syncFleet(payload).then(
    (result) => ({ result, error: undefined }),
    (error: unknown) => ({ result: undefined, error: error as ControlPlaneError }),
  );
  return { ...outcome, delays, retries, requests: server.requests };
}

describe('fleet push', () => {
  it('POSTs the payload with the bearer key, JSON and an idempotency key', async () => {
    const { result, requests } = await push([ok]);
    expect(result).toMatchObject({ status: 200, attempts: 1, body: ok.body });
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/v1/fleet/sync');
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(request.body)).toEqual(payload);
  });

  it('retries a 503 and succeeds, with the SAME idempotency key', async () => {
    const { result, requests, retries } = await push([
      { status: 503, body: envelope('SERVICE_UNAVAILABLE', 'not ready') },
      { status: 502 },
      ok,
    ]);
    expect(result).toMatchObject({ attempts: 3 });
    const keys = requests.map((r) => r.headers['idempotency-key']);
    expect(new Set(keys).size).toBe(1);
    expect(requests.map((r) => r.body)).toEqual([requests[0].body, requests[0].body, requests[0].body]);
    expect(retries).toHaveLength(2);
  });

  it('a new call gets a new idempotency key', async () => {
    server = await startScriptedServer([ok]);
    const client = new ControlPlaneClient({ baseUrl: server.url, apiKey: KEY });
    await client.syncFleet(payload);
    await client.syncFleet(payload);
    expect(server.requests[0].headers['idempotency-key']).not.toBe(
      server.requests[1].headers['idempotency-key'],
    );
  });

  it('honours Retry-After on 429', async () => {
    const { result, delays } = await push([
      { status: 429, headers: { 'retry-after': '2' }, body: envelope('RATE_LIMITED', 'fleet quota') },
      ok,
    ]);
    expect(result).toMatchObject({ attempts: 2 });
    expect(delays).toEqual([2000]);
  });

  it('gives up at once when Retry-After is beyond the run budget', async () => {
    const { error, requests } = await push(
      [
        {
          status: 429,
          headers: { 'retry-after': '3600' },
          body: envelope('RATE_LIMITED', 'fleet_agents quota'),
        },
      ],
      { maxTotalMs: 10_000 },
    );
    expect(requests).toHaveLength(1);
    expect(error).toMatchObject({ kind: 'rate-limited' });
    expect(error!.message).toContain('fleet_agents quota');
    expect(error!.message).toContain('retry after 3600s');
  });

  it.each([408, 425, 500, 504])('retries %i', async (status) => {
    const { result } = await push([{ status }, ok]);
    expect(result).toMatchObject({ attempts: 2 });
  });

  it('does not retry a 400 and prints the envelope message', async () => {
    const { error, requests } = await push([
      {
        status: 400,
        body: envelope('VALIDATION_ERROR', 'agents[0].name must be at most 200 characters', 'r-42'),
      },
    ]);
    expect(requests).toHaveLength(1);
    expect(error).toBeInstanceOf(ControlPlaneError);
    expect(error).toMatchObject({ kind: 'rejected', details: { status: 400, code: 'VALIDATION_ERROR' } });
    expect(error!.message).toBe(
      'the control plane refused the request (400 VALIDATION_ERROR: agents[0].name must be at most 200 characters) [request id r-42]',
    );
  });

  it.each([
    [409, 'conflict'],
    [413, 'rejected'],
    [404, 'rejected'],
  ])('does not retry a %i', async (status, kind) => {
    const { error, requests } = await push([{ status, body: envelope('X', 'no') }]);
    expect(requests).toHaveLength(1);
    expect(error).toMatchObject({ kind });
  });

  it('401: says the key was refused', async () => {
    const { error, requests } = await push([
      { status: 401, body: envelope('UNAUTHENTICATED', 'invalid API key') },
    ]);
    expect(requests).toHaveLength(1);
    expect(error).toMatchObject({ kind: 'unauthorized' });
    expect(error!.message).toMatch(
      /^the key was refused by the control plane \(401 UNAUTHENTICATED: invalid API key\)/,
    );
  });

  it('403: says to use a fleet-push key', async () => {
    const { error } = await push([
      { status: 403, body: envelope('FORBIDDEN', 'missing permission fleet:write') },
    ]);
    expect(error).toMatchObject({ kind: 'forbidden' });
    expect(error!.message).toMatch(
      /^this key's role cannot push fleet inventory; use a fleet-push key \(403 FORBIDDEN/,
    );
  });

  it('403 for an enrolled endpoint: names the refusal, not the key role', async () => {
    const body = {
      error: {
        code: 'FORBIDDEN',
        message: 'source_id "l-1" is enrolled: only its endpoint credential may push for it',
        details: { reason: 'enrolled', source_id: 'l-1' },
      },
    };
    const { error } = await push([{ status: 403, body }]);
    expect(error).toMatchObject({ kind: 'forbidden', details: { reason: 'enrolled' } });
    expect(error!.message).toMatch(
      /^the control plane refused this endpoint's push \(403 FORBIDDEN: source_id "l-1" is enrolled: only its endpoint credential may push for it\)/,
    );
    expect(error!.message).not.toContain('role');
  });

  it('retries are bounded by attempts', async () => {
    const { error, requests } = await push([{ status: 503, body: envelope('SERVICE_UNAVAILABLE', 'down') }], {
      maxAttempts: 3,
    });
    expect(requests).toHaveLength(3);
    expect(error).toMatchObject({ kind: 'server', details: { attempts: 3 } });
    expect(error!.message).toContain('after 3 attempts');
  });

  it('retries are bounded by the time budget', async () => {
    const started = Date.now();
    const { requests } = await push([{ status: 503 }], {
      maxAttempts: 50,
      baseDelayMs: 400,
      maxDelayMs: 400,
      maxTotalMs: 1000,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)), // real waits
    });
    expect(requests.length).toBeGreaterThan(1);
    expect(requests.length).toBeLessThan(6);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('retries network errors, then says the control plane is unreachable', async () => {
    const closed = await startScriptedServer([ok]);
    await closed.close();
    const client = new ControlPlaneClient({
      baseUrl: closed.url,
      apiKey: KEY,
      maxAttempts: 3,
      baseDelayMs: 1,
    });
    const error = (await client.syncFleet(payload).catch((e: unknown) => e)) as ControlPlaneError;
    expect(error).toMatchObject({ kind: 'network', details: { attempts: 3 } });
    expect(error.message).toMatch(
      /^cannot reach the control plane at 127\.0\.0\.1:\d+ \(ECONNREFUSED, after 3 attempts\)$/,
    );
  });

  it('a request that gets no answer times out and is retried', async () => {
    const { result } = await push([{ status: 0, hang: true }, ok], { requestTimeoutMs: 300 });
    expect(result).toMatchObject({ attempts: 2 });
  });

  it('does not follow redirects (the key would go along)', async () => {
    const { error, requests } = await push([
      { status: 307, headers: { location: 'https://elsewhere.example/v1/fleet/sync?k=1' } },
    ]);
    expect(requests).toHaveLength(1);
    expect(error).toMatchObject({ kind: 'redirect' });
    expect(error!.message).toContain('https://elsewhere.example/v1/fleet/sync;');
  });

  it('a 2xx that is not a sync result is an error', async () => {
    const { error } = await push([{ status: 200, body: { hello: 'world' } }]);
    expect(error).toMatchObject({ kind: 'bad-response' });
  });

  it('the key appears in no message, even when the server echoes it', async () => {
    const { error, retries } = await push([
      { status: 503, body: envelope('SERVICE_UNAVAILABLE', `bad ${KEY}`) },
      { status: 400, body: envelope('VALIDATION_ERROR', `key ${KEY} rejected`) },
    ]);
    expect(error!.message).toContain('[redacted]');
    for (const text of [error!.message, JSON.stringify(error), String(error!.stack), ...retries]) {
      expect(text).not.toContain(KEY);
    }
  });
});

describe('push URL security', () => {
  it('refuses plain http to a non-loopback host before sending anything', () => {
    expect(() => new ControlPlaneClient({ baseUrl: 'http://cp.example.com', apiKey: KEY })).toThrow(
      /refusing to send the API key over plain http to cp\.example\.com/,
    );
    expect(() => resolvePushUrl('http://192.168.1.10:8422/v1/fleet/sync')).toThrow(ControlPlaneError);
  });

  it('accepts http to loopback and https anywhere', () => {
    for (const url of [
      'http://127.0.0.1:8422',
      'http://localhost:1',
      'http://[::1]:2',
      'https://cp.example.com',
    ]) {
      expect(new ControlPlaneClient({ baseUrl: url, apiKey: KEY }).baseUrl.href).toBeTruthy();
    }
  });

  it('keeps a path prefix of the base URL', () => {
    const client = new ControlPlaneClient({ baseUrl: 'https://h.example/agent-bom/', apiKey: KEY });
    expect(client.resolve('/v1/fleet/sync').href).toBe('https://h.example/agent-bom/v1/fleet/sync');
  });

  it('refuses an empty key or one with whitespace', () => {
    expect(() => new ControlPlaneClient({ baseUrl: 'https://h.example', apiKey: ' ' })).toThrow(/empty/);
    expect(() => new ControlPlaneClient({ baseUrl: 'https://h.example', apiKey: 'a b' })).toThrow(
      /whitespace/,
    );
  });
});
