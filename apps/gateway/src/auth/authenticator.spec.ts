import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { Authenticator, type JwtVerifier } from './authenticator.js';
import type { JwtOutcome } from './oidc-tokens.js';

const METADATA = 'https://gw.example.com/.well-known/oauth-protected-resource/mcp';
const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';

/** A verifier that answers what it is told and counts the calls (the JWT checks themselves are libs/oidc's). */
function verifier(outcome: JwtOutcome): JwtVerifier & { calls: number } {
  return {
    calls: 0,
    async verify() {
      this.calls++;
      return outcome;
    },
  };
}

function authenticator(jwt: JwtVerifier) {
  return new Authenticator(
    {
      defaultTenant: 'default',
      required: true,
      links: [],
      positiveTtlMs: 10_000,
      negativeTtlMs: 5_000,
      jwt,
      resourceMetadata: METADATA,
      upstreamMetadata: (upstream: string) => `${METADATA}/${encodeURIComponent(upstream)}`,
    },
    pino({ level: 'silent' }),
  );
}

const headers = (token?: string) => (token ? { authorization: `Bearer ${token}` } : {});

describe('gateway Authenticator with OIDC access tokens', () => {
  it('names the resource metadata in every 401 challenge', async () => {
    const auth = authenticator(verifier({ ok: false, reason: 'expired' }));
    expect(await auth.authenticate(headers())).toMatchObject({
      status: 401,
      challenge: `Bearer realm="agent-bom-gateway", resource_metadata="${METADATA}"`,
    });
    expect(await auth.authenticate(headers(JWT))).toMatchObject({
      status: 401,
      challenge: `Bearer realm="agent-bom-gateway", resource_metadata="${METADATA}", error="invalid_token"`,
    });
  });

  it("on an upstream's route, names that upstream's metadata (a cached refusal too)", async () => {
    const auth = authenticator(verifier({ ok: false, reason: 'expired' }));
    expect(await auth.authenticate(headers(JWT))).toMatchObject({ status: 401 }); // cached without an upstream
    expect(await auth.authenticate(headers(JWT), 'beta')).toMatchObject({
      status: 401,
      challenge: `Bearer realm="agent-bom-gateway", resource_metadata="${METADATA}/beta", error="invalid_token"`,
    });
    expect(await auth.authenticate(headers(), 'a b')).toMatchObject({
      challenge: `Bearer realm="agent-bom-gateway", resource_metadata="${METADATA}/a%20b"`,
    });
  });

  it('reports each refused token once to the refusal recorder, with the tenant it was aimed at', async () => {
    const refused: unknown[] = [];
    const auth = new Authenticator(
      {
        defaultTenant: 'default',
        required: true,
        links: [],
        positiveTtlMs: 10_000,
        negativeTtlMs: 5_000,
        jwt: verifier({ ok: false, reason: 'expired', tenant: 'acme', issuer: 'https://idp' }),
        onTokenRefused: (refusal) => refused.push(refusal),
      },
      pino({ level: 'silent' }),
    );
    await auth.authenticate(headers(JWT));
    await auth.authenticate(headers(JWT)); // the negative cache answers: not reported again
    expect(refused).toEqual([{ reason: 'expired', tenant: 'acme', issuer: 'https://idp' }]);
  });

  it('an IdP that cannot be reached is a 503 (not a re-login), and not cached', async () => {
    const jwt = verifier({ ok: false, reason: 'issuer_unavailable' });
    const auth = authenticator(jwt);
    expect(await auth.authenticate(headers(JWT))).toMatchObject({ ok: false, status: 503 });
    await auth.authenticate(headers(JWT));
    expect(jwt.calls).toBe(2);
  });

  it('a role that may not relay is a 403 with insufficient_scope', async () => {
    const auth = authenticator(
      verifier({
        ok: true,
        principal: { tenant: 't', subject: 'oidc:x', id: 'oidc:x', method: 'jwt', role: 'fleet-push' },
      }),
    );
    expect(await auth.authenticate(headers(JWT))).toMatchObject({
      status: 403,
      challenge: expect.stringContaining('error="insufficient_scope"'),
    });
  });

  it('a cached answer never outlives the token: an expired one is checked again', async () => {
    const jwt = verifier({
      ok: true,
      principal: {
        tenant: 't',
        subject: 'oidc:x',
        id: 'oidc:x',
        method: 'jwt',
        role: 'viewer',
        expiresAt: Date.now() - 1,
      },
    });
    const auth = authenticator(jwt);
    expect(await auth.authenticate(headers(JWT))).toMatchObject({ ok: true });
    await auth.authenticate(headers(JWT));
    expect(jwt.calls).toBe(2);
  });
});

describe('gateway Authenticator: the static token and the answer cache', () => {
  const STATIC = 'static-token-0123456789';
  function withStatic(jwt?: JwtVerifier) {
    return new Authenticator(
      {
        bearerToken: STATIC,
        defaultTenant: 'default',
        required: true,
        links: [],
        positiveTtlMs: 10_000,
        negativeTtlMs: 5_000,
        jwt,
      },
      pino({ level: 'silent' }),
    );
  }

  it('accepts the static token, by either header, and nothing that merely resembles it', async () => {
    const auth = withStatic();
    expect(auth.authenticate(headers(STATIC))).toMatchObject({ ok: true, principal: { id: 'bearer' } });
    expect(auth.authenticate({ 'x-api-key': ` ${STATIC} ` })).toMatchObject({ ok: true });
    for (const other of [STATIC.slice(0, -1), `${STATIC}0`, STATIC.toUpperCase(), `${STATIC.slice(0, -1)}8`])
      expect(await auth.authenticate(headers(other))).toMatchObject({ ok: false, status: 401 });
  });

  it('caches answers per token: a second token is checked on its own, a repeat is answered from the cache', async () => {
    const jwt = verifier({
      ok: true,
      principal: { tenant: 't', subject: 'oidc:x', id: 'oidc:x', method: 'jwt', role: 'viewer' },
    });
    const auth = withStatic(jwt);
    const other = `${JWT}x`;
    expect(await auth.authenticate(headers(JWT))).toMatchObject({ ok: true });
    expect(auth.authenticate(headers(JWT))).toMatchObject({ ok: true }); // synchronous: the cached answer
    expect(jwt.calls).toBe(1);
    expect(await auth.authenticate(headers(other))).toMatchObject({ ok: true });
    expect(jwt.calls).toBe(2);
  });
});
