import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, Length, Matches } from 'class-validator';
import type { Role } from '../../../../libs/contracts/src/index.js';

const CLAIM = /^[A-Za-z0-9_:.\-/]{1,128}$/;

export class BindOidcIssuerDto {
  @ApiProperty({ example: 'https://acme.okta.com/oauth2/default' })
  @IsString()
  @Length(8, 2048)
  issuer: string;

  @ApiProperty({ example: 'api://agent-bom' })
  @IsString()
  @Length(1, 512)
  audience: string;

  @ApiPropertyOptional({ description: 'Pin the JWKS URI instead of discovering it' })
  @IsOptional()
  @IsString()
  @Length(8, 2048)
  jwks_uri?: string;

  @ApiPropertyOptional({ default: 'tenant_id' })
  @IsOptional()
  @Matches(CLAIM, { message: 'tenant_claim must be a claim name' })
  tenant_claim?: string;

  @ApiPropertyOptional({ default: 'agent_bom_role' })
  @IsOptional()
  @Matches(CLAIM, { message: 'role_claim must be a claim name' })
  role_claim?: string;

  @ApiPropertyOptional({ default: 'groups' })
  @IsOptional()
  @Matches(CLAIM, { message: 'groups_claim must be a claim name' })
  groups_claim?: string;

  @ApiPropertyOptional({
    description: 'Group → role. The only way a token reaches platform-admin or a machine role.',
    example: { 'agent-bom-admins': 'admin' },
  })
  @IsOptional()
  @IsObject()
  group_roles?: Record<string, Role>;
}
