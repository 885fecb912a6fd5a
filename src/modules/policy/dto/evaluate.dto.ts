import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsObject, IsOptional, IsString, IsUUID, Length, ValidateNested } from 'class-validator';
import { LIMITS } from '../../../../libs/policy/src/index.js';

/** Who is calling, through what, where: what rule bindings are matched against. */
export class EvaluateContextDto {
  @IsOptional() @IsString() @Length(1, LIMITS.maxNameLength) agent?: string;
  @IsOptional() @IsString() @Length(1, LIMITS.maxNameLength) client?: string;
  @IsOptional() @IsString() @Length(1, LIMITS.maxNameLength) environment?: string;
  @IsOptional() @IsString() @Length(1, LIMITS.maxNameLength) upstream?: string;
}

/** `POST /v1/gateway/evaluate`: one call to decide, as a proxy or gateway would see it. */
export class EvaluateDto {
  @ApiPropertyOptional({ default: 'tools/call', description: 'MCP method' })
  @IsOptional()
  @IsString()
  @Length(1, LIMITS.maxMethodLength)
  method?: string;

  @ApiPropertyOptional({ description: 'Tool name; required for tools/call', example: 'read_file' })
  @IsOptional()
  @IsString()
  @Length(1, LIMITS.maxNameLength)
  tool?: string;

  @ApiPropertyOptional({
    description: 'The call arguments (for other methods: the request params)',
    example: { path: '~/.ssh/id_rsa' },
  })
  @IsOptional()
  @IsObject({ message: 'arguments must be an object' })
  arguments?: Record<string, unknown>;

  @ApiPropertyOptional({ type: EvaluateContextDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => EvaluateContextDto)
  context?: EvaluateContextDto;

  @ApiPropertyOptional({ description: "Evaluate this one policy instead of the tenant's effective policy" })
  @IsOptional()
  @IsUUID('all', { message: 'policy_id must be a UUID' })
  policy_id?: string;
}
