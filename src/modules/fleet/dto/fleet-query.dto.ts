import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { AUTH_MODES, CLIENTS, SOURCE_ID_PATTERN, TRANSPORTS } from '../../../../libs/contracts/src/index.js';

class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'next_cursor from the previous page' })
  @IsOptional()
  @IsString()
  @Length(1, 1000)
  cursor?: string;

  @ApiPropertyOptional({ description: 'case-insensitive substring search' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  q?: string;
}

export class FleetQuery extends PageQuery {
  @IsOptional() @IsIn(CLIENTS) client?: string;
  @IsOptional() @IsString() @Matches(SOURCE_ID_PATTERN) source_id?: string;
  @IsOptional() @IsString() @Length(1, 200) environment?: string;
  @IsOptional() @IsIn(TRANSPORTS) transport?: string;
}

export class FleetServersQuery extends PageQuery {
  @IsOptional() @IsIn(TRANSPORTS) transport?: string;
  @IsOptional() @IsIn(AUTH_MODES) auth_mode?: string;
}
