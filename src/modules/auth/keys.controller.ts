import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ApiKeyView, CreatedApiKey } from '../../../libs/contracts/src/index.js';
import { CurrentPrincipal, RequirePermission } from '../../core/auth/decorators.js';
import type { Principal } from '../../core/auth/principal.js';
import { uuidParam } from '../../core/http/uuid-param.js';
import { ApiKeysService } from './api-keys.service.js';
import { CreateKeyDto, ListKeysQuery, RotateKeyDto } from './dto/keys.dto.js';

@ApiTags('auth')
@ApiBearerAuth()
@Controller('auth/keys')
export class KeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @RequirePermission('keys:manage')
  @ApiOperation({ summary: 'Create an API key in your tenant; the raw key is returned once' })
  create(@CurrentPrincipal() principal: Principal, @Body() body: CreateKeyDto): Promise<CreatedApiKey> {
    return this.keys.create(principal, body);
  }

  @Get()
  @RequirePermission('keys:manage')
  @ApiOperation({ summary: "List your tenant's API keys (never their secrets)" })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListKeysQuery) {
    return this.keys.list(principal, query);
  }

  @Get(':id')
  @RequirePermission('keys:manage')
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuidParam('id')) id: string,
  ): Promise<ApiKeyView> {
    return this.keys.get(principal, id);
  }

  @Delete(':id')
  @RequirePermission('keys:manage')
  @ApiOperation({ summary: 'Revoke an API key' })
  revoke(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuidParam('id')) id: string,
  ): Promise<ApiKeyView> {
    return this.keys.revoke(principal, id);
  }

  @Post(':id/rotate')
  @HttpCode(201)
  @RequirePermission('keys:manage')
  @ApiOperation({ summary: 'Replace an API key, optionally keeping the old one valid for an overlap' })
  rotate(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuidParam('id')) id: string,
    @Body() body: RotateKeyDto,
  ): Promise<CreatedApiKey> {
    return this.keys.rotate(principal, id, body.overlap);
  }
}
