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
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { etag, body } = await this.bundles.bundle(principal, ifNoneMatch);
    // no-cache, not no-store: caches may keep the bundle but must revalidate (If-None-Match) before each use.
    void reply.header('etag', etag).header('cache-control', 'no-cache');
    if (body === null) await reply.code(304).send();
    else await reply.code(200).type('application/json; charset=utf-8').send(body);
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
