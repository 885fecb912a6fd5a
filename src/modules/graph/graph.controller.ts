import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { CurrentPrincipal, RequirePermission } from '../../core/auth/decorators.js';
import type { Principal } from '../../core/auth/principal.js';
import { GRAPH_NODE_TYPES } from '../../../libs/contracts/src/index.js';
import { GraphService } from './graph.service.js';

class GraphQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 5000, default: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5000)
  limit?: number;

  @IsOptional()
  @IsIn(GRAPH_NODE_TYPES)
  type?: string;
}

class ImpactQuery {
  @ApiPropertyOptional({
    description: 'node id, e.g. vuln:GHSA-…, pkg:npm/lodash@4.17.20, server:<source>/<agent>/<name>',
  })
  @IsString()
  @Length(1, 2100)
  node: string;
}

@ApiTags('graph')
@ApiBearerAuth()
@Controller('graph')
export class GraphController {
  constructor(private readonly graph: GraphService) {}

  @Get()
  @RequirePermission('scan:read')
  @ApiOperation({ summary: 'The tenant’s inventory graph: nodes and the edges between them' })
  page(@CurrentPrincipal() principal: Principal, @Query() query: GraphQuery) {
    return this.graph.graphPage(principal, query);
  }

  @Get('impact')
  @RequirePermission('scan:read')
  @ApiOperation({ summary: 'Blast radius of a vulnerability, package or server (recursive SQL)' })
  impact(@CurrentPrincipal() principal: Principal, @Query() query: ImpactQuery) {
    return this.graph.impact(principal, query.node);
  }
}
