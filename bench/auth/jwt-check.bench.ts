/**
 * `node dist/bench/auth/jwt-check.bench.js`: what an OIDC bearer JWT costs the guard over an API key, in one run.
 *
 * Measures, per call, the resolver chain the global guard asks (`CredentialChain.resolve`) on a real control plane
 * (real PostgreSQL: DATABASE_URL, else a throw-away embedded one):
 * - system:  a cached API key, and an ES256 JWT whose issuer's JWKS is cached (fetched once from a loopback JWKS);
 * - limit:   the simplest hand-written check of the same JWT (`jose.jwtVerify` against a local key set);
 * - the first use of each of 1000 distinct tokens (full signature verification, no verified-token cache hit);
 * The calls are interleaved in rounds so both paths see the same machine state. Target: JWT p50 − key p50 ≤ 0.1 ms.
 */
import fs from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { createApp } from '../../src/app.js';
import { systemPrincipal } from '../../src/core/auth/principal.js';
import { loadConfig } from '../../src/core/config/config.js';
import { migrateWithLock } from '../../src/core/database/data-source.js';
import { openDatabase } from '../../src/core/database/database.js';
import { createLogger } from '../../src/core/logging/logger.js';
import { ApiKeysService } from '../../src/modules/auth/api-keys.service.js';
import { CredentialChain } from '../../src/modules/sso/credential-chain.js';
import { TenantsService } from '../../src/modules/tenants/tenants.service.js';

const ROUNDS = Number(process.env.BENCH_AUTH_ROUNDS ?? 200);
const PER_ROUND = 50;
const AUDIENCE = 'api://agent-bom-bench';

export interface JwtCheckFigures {
  keyP50Ms: number;
  jwtP50Ms: number;
  limitP50Ms: number;
  keyP99Ms: number;
  jwtP99Ms: number;
  addedP50Ms: number;
  /** First use of a token (not yet in the verified-token cache): the full signature check. */
  firstUseP50Ms: number;
  calls: number;
}

const p = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((q / 100) * sorted.length))];
};

export async function run(): Promise<JwtCheckFigures> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES256', use: 'sig' }] };
  const server = createServer((_req, res) =>
    res.setHeader('content-type', 'application/json').end(JSON.stringify(jwks)),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  const issuer = 'https://idp.bench.example';

  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-bench-auth-'));
  const config = loadConfig({
    ...process.env,
    AGENT_BOM_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    PORT: '0',
    AGENT_BOM_OIDC_ISSUER: issuer,
    AGENT_BOM_OIDC_AUDIENCE: AUDIENCE,
    AGENT_BOM_OIDC_JWKS_URI: jwksUri,
  });
  const db = await openDatabase(config, 'own');
  await migrateWithLock(db.dataSource);
  const app = await createApp(config, db.dataSource, createLogger('warn'));
  try {
    const tenant = `bench-${Date.now().toString(36)}`;
    await app.get(TenantsService).create(systemPrincipal(tenant, 'bench'), { id: tenant });
    const key = (await app.get(ApiKeysService).create(systemPrincipal(tenant, 'bench'), { role: 'viewer' }))
      .raw_key;
    const jwt = await new SignJWT({ sub: 'bench@example', tenant_id: tenant, agent_bom_role: 'viewer' })
      .setProtectedHeader({ alg: 'ES256', kid: 'bench' })
      .setIssuer(issuer)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    const chain = app.get(CredentialChain);
    const local = createLocalJWKSet(jwks);
    const keyCall = () => chain.resolve({ kind: 'bearer', value: key });
    const jwtCall = () => chain.resolve({ kind: 'bearer', value: jwt });
    const limitCall = () => jwtVerify(jwt, local, { issuer, audience: AUDIENCE, algorithms: ['ES256'] });
    for (const call of [keyCall, jwtCall]) {
      if (!(await call())) throw new Error('bench credential did not resolve');
    }
    for (let i = 0; i < 500; i++) await Promise.all([keyCall(), jwtCall(), limitCall()]); // warm-up: JIT, caches

    const timings = { key: [] as number[], jwt: [] as number[], limit: [] as number[] };
    const time = async (fn: () => Promise<unknown>, into: number[]) => {
      for (let i = 0; i < PER_ROUND; i++) {
        const start = performance.now();
        await fn();
        into.push(performance.now() - start);
      }
    };
    for (let round = 0; round < ROUNDS; round++) {
      await time(keyCall, timings.key);
      await time(jwtCall, timings.jwt);
      await time(limitCall, timings.limit);
    }
    const fresh: string[] = [];
    for (let i = 0; i < 1000; i++) {
      fresh.push(
        await new SignJWT({ sub: `u${i}@example`, tenant_id: tenant, agent_bom_role: 'viewer' })
          .setProtectedHeader({ alg: 'ES256', kid: 'bench' })
          .setIssuer(issuer)
          .setAudience(AUDIENCE)
          .setIssuedAt()
          .setExpirationTime('1h')
          .sign(privateKey),
      );
    }
    const firstUse: number[] = [];
    for (const token of fresh) {
      const start = performance.now();
      await chain.resolve({ kind: 'bearer', value: token });
      firstUse.push(performance.now() - start);
    }
    const keyP50Ms = p(timings.key, 50);
    const jwtP50Ms = p(timings.jwt, 50);
    return {
      keyP50Ms,
      jwtP50Ms,
      limitP50Ms: p(timings.limit, 50),
      keyP99Ms: p(timings.key, 99),
      jwtP99Ms: p(timings.jwt, 99),
      addedP50Ms: jwtP50Ms - keyP50Ms,
      firstUseP50Ms: p(firstUse, 50),
      calls: timings.key.length,
    };
  } finally {
    await app.close();
    await db.close();
    server.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

export function report(f: JwtCheckFigures): string {
  const ms = (v: number) => `${(v * 1000).toFixed(1).padStart(6)} µs`;
  return [
    `auth/jwt: resolver chain per call, ${f.calls} calls each, interleaved (same process, same run)`,
    `  API key (cached)          p50 ${ms(f.keyP50Ms)}   p99 ${ms(f.keyP99Ms)}`,
    `  OIDC JWT (JWKS cached)    p50 ${ms(f.jwtP50Ms)}   p99 ${ms(f.jwtP99Ms)}   (a token seen before, within the auth cache TTL)`,
    `  OIDC JWT, first use       p50 ${ms(f.firstUseP50Ms)}   (full ES256 verification, 1000 distinct tokens)`,
    `  limit: jose.jwtVerify     p50 ${ms(f.limitP50Ms)}   (local key set, nothing else)`,
    `  JWT adds ${ms(f.addedP50Ms)} at p50 over the API key (target ≤ 100 µs): ${f.addedP50Ms <= 0.1 ? 'met' : 'NOT met'}`,
    `  JWT / limit p50: ${(f.jwtP50Ms / f.limitP50Ms).toFixed(2)}x`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(report(await run()));
}
