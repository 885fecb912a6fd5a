import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
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
