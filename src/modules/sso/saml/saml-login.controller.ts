import { Body, Controller, Get, Header, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../../core/auth/decorators.js';
import { setSessionCookie } from '../../../core/auth/session-cookie.js';
import { SamlLoginService } from './saml-login.service.js';

/** The ACS path, the one route that accepts a form body (the SAML HTTP-POST binding). */
export const SAML_ACS_PATH = '/v1/auth/saml/acs';

@ApiTags('auth')
@Controller('auth/saml')
export class SamlLoginController {
  constructor(private readonly saml: SamlLoginService) {}

  @Get('metadata')
  @Public()
  @Header('content-type', 'application/samlmetadata+xml; charset=utf-8')
  @ApiOperation({ summary: "This service provider's SAML metadata (entity id, ACS URL)" })
  metadata(): string {
    return this.saml.metadata();
  }

  @Get('login')
  @Public()
  @ApiOperation({ summary: 'Start an SP-initiated SAML login; redirects to the IdP' })
  async login(@Query('return_to') returnTo: unknown, @Res() reply: FastifyReply): Promise<void> {
    void reply.redirect(await this.saml.start(returnTo), 302);
  }

  /** Public: the IdP posts the signed response here (form body). Opens a session and redirects. */
  @Post('acs')
  @Public()
  @ApiOperation({ summary: 'SAML assertion consumer service (HTTP-POST binding)' })
  async acs(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { opened, returnTo } = await this.saml.acs(body, request.headers['user-agent']);
    void reply
      .header('set-cookie', setSessionCookie(opened.secret, opened.principal.session!.expiresAt))
      .redirect(returnTo, 303);
  }
}
