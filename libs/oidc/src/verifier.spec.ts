import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { OidcTokenVerifier } from './verifier.js';

describe('OidcTokenVerifier: cached JWKS', () => {
  let server: Server;
  let jwksUri: string;
  let keys: JWK[] = [];
  let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  const ISSUER = 'https://idp.example.test';

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    keys = [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }];
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const token = () =>
    new SignJWT({ sub: 'a' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience('aud')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);

  it('forget(issuer) drops the cached key set, so a key removed from the JWKS stops verifying at once', async () => {
    const verifier = new OidcTokenVerifier({
      trustOf: (issuer) => (issuer === ISSUER ? { issuer, audience: 'aud', jwksUri } : undefined),
      jwksCacheSeconds: 300,
    });
    await expect(verifier.verify(await token())).resolves.toMatchObject({ claims: { sub: 'a' } });
    const published = keys;
    keys = [];
    // Still cached: the same key set answers for up to jwksCacheSeconds.
    await expect(verifier.verify(await token())).resolves.toMatchObject({ claims: { sub: 'a' } });
    verifier.forget(ISSUER);
    await expect(verifier.verify(await token())).rejects.toMatchObject({ reason: 'unknown_kid' });
    keys = published;
  });
});
