import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { AUTH_MODES, CLIENTS, SOURCE_ID_PATTERN, TRANSPORTS } from '../../../../libs/contracts/src/index.js';
import { PageQuery } from '../../../core/http/page.dto.js';

class SearchPageQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'case-insensitive substring search' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  q?: string;
}

export class FleetQuery extends SearchPageQuery {
  @IsOptional() @IsIn(CLIENTS) client?: string;
  @IsOptional() @IsString() @Matches(SOURCE_ID_PATTERN) source_id?: string;
  @IsOptional() @IsString() @Length(1, 200) environment?: string;
  @IsOptional() @IsIn(TRANSPORTS) transport?: string;
}

export class FleetServersQuery extends SearchPageQuery {
  @IsOptional() @IsIn(TRANSPORTS) transport?: string;
  @IsOptional() @IsIn(AUTH_MODES) auth_mode?: string;
}

export class FleetEndpointsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'the last source_id of the previous page' })
  @IsOptional()
  @IsString()
  @Matches(SOURCE_ID_PATTERN)
  after?: string;
}
