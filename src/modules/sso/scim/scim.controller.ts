import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  UseFilters,
} from '@nestjs/common';
import { ApiBearerAuth, ApiExcludeController } from '@nestjs/swagger';
import { CurrentPrincipal, RequirePermission } from '../../../core/auth/decorators.js';
import type { Principal } from '../../../core/auth/principal.js';
import { ScimErrorFilter } from './scim-error.filter.js';
import { SCIM_GROUP, SCIM_USER } from './scim.mapper.js';
import { ScimGroupsService } from './scim-groups.service.js';
import { ScimService } from './scim.service.js';

const SCIM_JSON = 'application/scim+json; charset=utf-8';

/** SCIM 2.0 (RFC 7643/7644) for the IdP: only a tenant's SCIM token reaches these routes, and nothing else. */
@ApiExcludeController()
@ApiBearerAuth()
@UseFilters(ScimErrorFilter)
@RequirePermission('scim:provision')
@Controller('scim/v2')
export class ScimController {
  constructor(
    private readonly scim: ScimService,
    private readonly groups: ScimGroupsService,
  ) {}

  @Get('ServiceProviderConfig')
  @Header('content-type', SCIM_JSON)
  config() {
    return {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
      filter: { supported: true, maxResults: 500 },
      changePassword: { supported: false },
      sort: { supported: false },
      etag: { supported: false },
      authenticationSchemes: [
        {
          type: 'oauthbearertoken',
          name: 'SCIM token',
          description: 'Authorization: Bearer scim_…',
          primary: true,
        },
      ],
    };
  }

  @Get('ResourceTypes')
  @Header('content-type', SCIM_JSON)
  resourceTypes() {
    return [
      {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
        id: 'User',
        name: 'User',
        endpoint: '/Users',
        schema: SCIM_USER,
      },
      {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
        id: 'Group',
        name: 'Group',
        endpoint: '/Groups',
        schema: SCIM_GROUP,
      },
    ];
  }

  @Post('Users')
  @Header('content-type', SCIM_JSON)
  createUser(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.scim.createUser(p, body);
  }

  @Get('Users')
  @Header('content-type', SCIM_JSON)
  listUsers(@CurrentPrincipal() p: Principal, @Query() query: Record<string, unknown>) {
    return this.scim.listUsers(p, query);
  }

  @Get('Users/:id')
  @Header('content-type', SCIM_JSON)
  getUser(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.scim.getUser(p, id);
  }

  @Put('Users/:id')
  @Header('content-type', SCIM_JSON)
  replaceUser(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: unknown) {
    return this.scim.replaceUser(p, id, body);
  }

  @Patch('Users/:id')
  @Header('content-type', SCIM_JSON)
  patchUser(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: unknown) {
    return this.scim.patchUser(p, id, body);
  }

  @Delete('Users/:id')
  @HttpCode(204)
  deleteUser(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.scim.deleteUser(p, id);
  }

  @Post('Groups')
  @Header('content-type', SCIM_JSON)
  createGroup(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.groups.createGroup(p, body);
  }

  @Get('Groups')
  @Header('content-type', SCIM_JSON)
  listGroups(@CurrentPrincipal() p: Principal, @Query() query: Record<string, unknown>) {
    return this.groups.listGroups(p, query);
  }

  @Get('Groups/:id')
  @Header('content-type', SCIM_JSON)
  getGroup(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.groups.getGroup(p, id);
  }

  @Put('Groups/:id')
  @Header('content-type', SCIM_JSON)
  replaceGroup(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: unknown) {
    return this.groups.replaceGroup(p, id, body);
  }

  @Patch('Groups/:id')
  @Header('content-type', SCIM_JSON)
  patchGroup(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: unknown) {
    return this.groups.patchGroup(p, id, body);
  }

  @Delete('Groups/:id')
  @HttpCode(204)
  deleteGroup(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.groups.deleteGroup(p, id);
  }
}
