import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isRole, type MeView, type SessionView } from '../../../../libs/contracts/src/index.js';
import { CurrentPrincipal, Public, RequirePermission } from '../../../core/auth/decorators.js';
import { meViewOf } from '../../../core/auth/me-view.js';
import { PRINCIPAL_RESOLVER, type Principal, type PrincipalResolver } from '../../../core/auth/principal.js';
import { clearSessionCookie, setSessionCookie } from '../../../core/auth/session-cookie.js';
import { DomainError } from '../../../core/errors/domain-error.js';
import { PageQuery } from '../../../core/http/page.dto.js';
import { uuidParam } from '../../../core/http/uuid-param.js';
import { CreateSessionDto } from '../dto/session.dto.js';
import { isSessionRole } from './session-roles.js';
import { SessionsService } from './sessions.service.js';

export interface CreatedSessionView {
  csrf_token: string;
  session: { id: string; expires_at: string; idle_expires_at: string };
  principal: MeView;
}

@ApiTags('auth')
@Controller('auth')
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    @Inject(PRINCIPAL_RESOLVER) private readonly keys: PrincipalResolver,
  ) {}

  /**
   * Exchanges an API key for a browser session (the console's login). Public: the key in the body is the
   * credential. The body must be JSON, which a cross-site form cannot send, so this cannot be used for login CSRF.
   */
  @Post('session')
  @Public()
  @ApiOperation({
    summary: 'Open a browser session with an API key; sets the __Host-agent_bom_session cookie',
  })
  async create(
    @Body() body: CreateSessionDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CreatedSessionView> {
    const key = await this.keys.resolve(body.api_key);
    if (!key) throw new DomainError('UNAUTHENTICATED', 'invalid, expired or revoked API key');
    if (!isRole(key.role) || !isSessionRole(key.role)) {
      throw new DomainError(
        'FORBIDDEN',
        `a "${key.role}" key is for machines and cannot open a browser session`,
      );
    }
    const opened = await this.sessions.open(
      {
        tenantId: key.tenantId,
        role: key.role,
        subject: key.subject,
        via: 'api_key',
        keyId: key.keyId,
        userId: null,
      },
      key,
      request.headers['user-agent'],
    );
    const session = opened.principal.session!;
    void reply.header('set-cookie', setSessionCookie(opened.secret, session.expiresAt));
    return {
      csrf_token: opened.csrfToken,
      session: {
        id: session.id,
        expires_at: session.expiresAt.toISOString(),
        idle_expires_at: session.idleExpiresAt.toISOString(),
      },
      principal: meViewOf(opened.principal),
    };
  }

  /** Ends the caller's session and clears the cookie. With a bearer there is no session to end: still 204. */
  @Post('logout')
  @HttpCode(204)
  @RequirePermission('me:read')
  @ApiOperation({ summary: 'End this browser session' })
  async logout(
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.sessions.end(principal);
    void reply.header('set-cookie', clearSessionCookie());
  }

  @Get('sessions')
  @RequirePermission('sessions:manage')
  @ApiOperation({ summary: "List your tenant's live browser sessions (never their secrets)" })
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: PageQuery,
  ): Promise<{ items: SessionView[]; next_cursor: string | null }> {
    return this.sessions.list(principal, query);
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @RequirePermission('sessions:manage')
  @ApiOperation({ summary: 'Revoke a browser session of your tenant; it stops working at once' })
  revoke(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('id')) id: string): Promise<void> {
    return this.sessions.revoke(principal, id);
  }
}
