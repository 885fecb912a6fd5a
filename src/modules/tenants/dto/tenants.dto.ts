import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { TENANT_ID_PATTERN } from '../../../../libs/contracts/src/index.js';

export class CreateTenantDto {
  @ApiProperty({ example: 'acme', pattern: TENANT_ID_PATTERN.source })
  @IsString()
  @Matches(TENANT_ID_PATTERN, {
    message: 'id must be 1-63 characters of a-z, 0-9 and "-", starting and ending with a letter or digit',
  })
  id: string;

  @ApiPropertyOptional({ example: 'Acme Corp' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({ description: "Also mint the tenant's first admin key and return it once" })
  @IsOptional()
  @IsBoolean()
  create_admin_key?: boolean;
}

export class ListTenantsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'next_cursor from the previous page' })
  @IsOptional()
  @IsString()
  @Matches(TENANT_ID_PATTERN, { message: 'cursor is not a cursor this API issued' })
  cursor?: string;
}
