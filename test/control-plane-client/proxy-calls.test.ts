import { afterEach, describe, expect, it } from '@jest/globals';
import { ControlPlaneClient, ControlPlaneError } from '../../libs/control-plane-client/src/index.js';
import { envelope, startScriptedServer, type ScriptedServer } from '../helpers/scripted-http.js';

/** The proxy's calls (bundle with ETag, verification keys, audit push) against a scripted loopback server. */
const KEY = 'abom_' + 'p'.repeat(43);
let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const client = (url: string) =>
  new ControlPlaneClient({
    baseUrl: url,
    apiKey: KEY,
    baseDelayMs: 5,
    maxDelayMs: 10,
    keyHint: '--control-plane-token',
  });

describe('policy bundle and keys', () => {
  it('GETs the bundle with the bearer key, keeps its raw text and ETag', async () => {
    const bundle = { payload: { version: 3 }, signature: 's', key_id: 'k', alg: 'Ed25519' };
    server = await startScriptedServer([{ status: 200, headers: { etag: '"3.k"' }, body: bundle }]);
    const result = await client(server.url).fetchPolicyBundle();
    expect(result).toMatchObject({ status: 200, etag: '"3.k"', body: bundle, text: JSON.stringify(bundle) });
    expect(server.requests[0]).toMatchObject({ method: 'GET', path: '/v1/policy/bundle' });
    expect(server.requests[0].headers.authorization).toBe(`Bearer ${KEY}`);
    expect(server.requests[0].headers['if-none-match']).toBeUndefined();
  });

  it('sends If-None-Match and resolves a 304 without a body', async () => {
    server = await startScriptedServer([{ status: 304, headers: { etag: '"3.k"' } }]);
    const result = await client(server.url).fetchPolicyBundle({ etag: '"3.k"' });
    expect(result).toMatchObject({ status: 304, etag: '"3.k"' });
    expect(result.body).toBeNull();
    expect(result.notModified).toBe(true);
    expect(server.requests[0].headers['if-none-match']).toBe('"3.k"');
  });

  it('retries a 503 on GET, and names the token flag on 401', async () => {
    server = await startScriptedServer([{ status: 503 }, { status: 200, body: { keys: [] } }]);
    expect((await client(server.url).fetchVerificationKeys()).attempts).toBe(2);
    await server.close();
    server = await startScriptedServer([{ status: 401, body: envelope('UNAUTHENTICATED', 'bad key') }]);
    const error = await client(server.url)
      .fetchPolicyBundle()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ControlPlaneError);
    expect((error as ControlPlaneError).kind).toBe('unauthorized');
    expect((error as ControlPlaneError).message).toContain('--control-plane-token');
    expect((error as ControlPlaneError).message).not.toContain(KEY);
  });

  it('refuses a verification-key answer without keys', async () => {
    server = await startScriptedServer([{ status: 200, body: { keys: [{ nope: 1 }] } }]);
    await expect(client(server.url).fetchVerificationKeys()).rejects.toMatchObject({ kind: 'bad-response' });
  });

  it('a per-call budget bounds a probe of a dead control plane', async () => {
    server = await startScriptedServer([{ status: 200 }]);
    const url = server.url;
    await server.close();
    server = undefined;
    const started = Date.now();
    const error = await client(url)
      .fetchPolicyBundle({ maxAttempts: 2, maxTotalMs: 1000, requestTimeoutMs: 500 })
      .catch((e: unknown) => e);
    expect((error as ControlPlaneError).kind).toBe('network');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('audit push', () => {
  it('POSTs the batch and checks the result shape', async () => {
    const ok = {
      accepted: 1,
      duplicates: 0,
      conflicts: 0,
      redacted: 0,
      duplicate_event_ids: [],
      conflict_event_ids: [],
    };
    server = await startScriptedServer([{ status: 200, body: ok }]);
    const batch = {
      source_id: 'laptop:proxy',
      events: [
        {
          event_id: 'e1',
          type: 'tool_call.allowed' as const,
          timestamp: new Date().toISOString(),
          tool: 't',
        },
      ],
    };
    const result = await client(server.url).pushAudit(batch, { idempotencyKey: 'batch-1' });
    expect(result.body).toEqual(ok);
    expect(server.requests[0]).toMatchObject({ method: 'POST', path: '/v1/proxy/audit' });
    expect(server.requests[0].headers['idempotency-key']).toBe('batch-1');
    expect(JSON.parse(server.requests[0].body)).toEqual(batch);
  });

  it("sends a JSON text the caller already has as it is (the pusher joins its events' texts)", async () => {
    server = await startScriptedServer([
      { status: 200, body: { accepted: 0, duplicates: 0 } },
      { status: 200, body: { accepted: 0, duplicates: 0 } },
    ]);
    const batch = { source_id: 's', session_id: 'é😀', events: [] };
    const json = JSON.stringify(batch);
    await client(server.url).pushAudit(batch, { json });
    // The text is what goes on the wire, not a serialisation of the object (which it must equal).
    await client(server.url).pushAudit(batch, { json: json.replace('{', '{ ') });
    expect(server.requests[0].body).toBe(json);
    expect(server.requests[1].body).toBe(json.replace('{', '{ '));
  });

  it('a 2xx without a result is a bad response', async () => {
    server = await startScriptedServer([{ status: 200, body: { ok: true } }]);
    await expect(client(server.url).pushAudit({ source_id: 's', events: [] })).rejects.toMatchObject({
      kind: 'bad-response',
    });
  });
});
