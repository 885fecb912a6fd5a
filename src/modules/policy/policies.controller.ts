import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { PolicyEvaluation, PolicyView } from '../../../libs/contracts/src/index.js';
import { CurrentPrincipal, RequirePermission } from '../../core/auth/decorators.js';
import type { Principal } from '../../core/auth/principal.js';
import { uuidParam } from '../../core/http/uuid-param.js';
import { EvaluateDto } from './dto/evaluate.dto.js';
import {
  DeletePolicyDto,
  GetPolicyQuery,
  ListPoliciesQuery,
  ListVersionsQuery,
  PolicyDto,
  UpdatePolicyDto,
} from './dto/policy.dto.js';
import { PolicyEvaluateService } from './policy-evaluate.service.js';
import { PolicyReadService } from './policy-read.service.js';
import { PolicyWriteService } from './policy-write.service.js';

const IF_MATCH = {
  name: 'If-Match',
  required: false,
  description: 'The policy version the change is based on, quoted ("3"): 409 if it moved on',
};

/** Each policy view carries its version as a strong ETag, the value `If-Match` takes. */
function withEtag(reply: FastifyReply, view: PolicyView): PolicyView {
  void reply.header('etag', `"${view.version}"`);
  return view;
}

@ApiTags('policy')
@ApiBearerAuth()
@Controller('gateway')
export class PoliciesController {
  constructor(
    private readonly reads: PolicyReadService,
    private readonly writes: PolicyWriteService,
    private readonly evaluations: PolicyEvaluateService,
  ) {}

  @Get('policies')
  @RequirePermission('policy:read')
  @ApiOperation({ summary: "Your tenant's live policies by name (documents summarised as rule_count)" })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListPoliciesQuery) {
    return this.reads.list(principal, query);
  }

  @Post('policies')
  @RequirePermission('policy:write')
  @ApiOperation({ summary: 'Create a policy (version 1); the document is compiled, the change audited' })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: PolicyDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PolicyView> {
    return withEtag(reply, await this.writes.create(principal, body));
  }

  @Get('policies/:id')
  @RequirePermission('policy:read')
  @ApiOperation({ summary: 'A policy at its current version, or a past one with ?version=N' })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuidParam('id')) id: string,
    @Query() query: GetPolicyQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PolicyView> {
    return withEtag(reply, await this.reads.get(principal, id, query.version));
  }

  @Get('policies/:id/versions')
  @RequirePermission('policy:read')
  @ApiOperation({ summary: "A policy's immutable versions, newest first (deleted policies too)" })
  versions(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuidParam('id')) id: string,
    @Query() query: ListVersionsQuery,
  ) {
    return this.reads.versions(principal, id, query);
  }

  @Put('policies/:id')
  @RequirePermission('policy:write')
  @ApiHeader(IF_MATCH)
  @ApiOperation({ summary: 'Replace a policy: a new version (none if nothing changed)' })
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuidParam('id')) id: string,
    @Body() body: UpdatePolicyDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PolicyView> {
    return withEtag(reply, await this.writes.update(principal, id, body, ifMatch));
  }

  @Delete('policies/:id')
  @RequirePermission('policy:write')
  @ApiHeader(IF_MATCH)
  @ApiOperation({ summary: 'Delete a policy: a tombstone version; history stays readable' })
  async remove(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuidParam('id')) id: string,
    @Body() body: DeletePolicyDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PolicyView> {
    return withEtag(reply, await this.writes.remove(principal, id, body, ifMatch));
  }

  @Post('evaluate')
  @HttpCode(200)
  @RequirePermission('policy:read')
  @ApiOperation({
    summary: 'Dry run: the full decision for one call against the effective policy or one policy',
  })
  evaluate(@CurrentPrincipal() principal: Principal, @Body() body: EvaluateDto): Promise<PolicyEvaluation> {
    return this.evaluations.evaluate(principal, body);
  }
}
