import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { PolicyVerificationKeys } from '../../../libs/contracts/src/index.js';
import { CurrentPrincipal, RequirePermission } from '../../core/auth/decorators.js';
import type { Principal } from '../../core/auth/principal.js';
import { PolicyBundleService } from './policy-bundle.service.js';

/** What proxies and gateways poll. Contract: docs/policy.md "Bundles" (ETag, 304, keys). */
@ApiTags('policy')
@ApiBearerAuth()
@Controller('policy')
export class BundleController {
  constructor(private readonly bundles: PolicyBundleService) {}

  @Get('bundle')
  @RequirePermission('policy:bundle')
  @ApiHeader({ name: 'If-None-Match', required: false, description: 'The ETag of your copy: 304 if current' })
  @ApiOperation({
    summary: 'Your tenant\'s effective policy as a signed bundle (Ed25519); ETag "<version>.<key_id>"',
  })
  async bundle(
    @CurrentPrincipal() principal: Principal,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Headers('accept-encoding') acceptEncoding: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const answer = this.bundles.bundle(principal, ifNoneMatch);
    const served = answer instanceof Promise ? await answer : answer;
    // no-cache, not no-store: caches may keep the bundle but must revalidate (If-None-Match) before each use.
    void reply
      .header('etag', served.etag)
      .header('cache-control', 'no-cache')
      .header('vary', 'accept-encoding');
    if (served.body === null) return void (await reply.code(304).send());
    void reply.code(200).type('application/json; charset=utf-8');
    if (acceptsGzip(acceptEncoding)) await reply.header('content-encoding', 'gzip').send(served.gzip);
    else await reply.send(served.body);
  }

  @Get('verification-key')
  @RequirePermission('policy:bundle')
  @ApiOperation({
    summary: 'Public keys that verify bundles: the current key and every retired key still trusted',
  })
  verificationKey(): PolicyVerificationKeys {
    return this.bundles.verificationKeys();
  }
}

/** Verdicts of the `Accept-Encoding` values seen (pollers send one or two), so a poll does not parse its own. */
const gzipVerdicts = new Map<string, boolean>();
const MAX_GZIP_VERDICTS = 64;

/** Whether an `Accept-Encoding` header accepts gzip (listed, or `*`, with a non-zero q) — RFC 9110 §12.5.3. */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  const known = gzipVerdicts.get(header);
  if (known !== undefined) return known;
  const verdict = parseAcceptsGzip(header);
  // Bounded: a client sending a new value each time only makes every value parsed, as before.
  if (gzipVerdicts.size < MAX_GZIP_VERDICTS && header.length <= 256) gzipVerdicts.set(header, verdict);
  return verdict;
}

function parseAcceptsGzip(header: string): boolean {
  let star = false;
  for (const part of header.toLowerCase().split(',')) {
    const [coding, ...params] = part.trim().split(';');
    const q = params.map((p) => /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p)).find(Boolean);
    const accepted = !q || Number(q[1]) > 0;
    if (coding.trim() === 'gzip' || coding.trim() === 'x-gzip') return accepted;
    if (coding.trim() === '*') star = accepted;
  }
  return star;
}
