import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Length } from 'class-validator';
import {
  UPSTREAM_APPROVAL_STATES,
  type UpstreamApprovalState,
} from '../../../../libs/contracts/src/index.js';
import { MAX_AUTO_APPROVE_HOSTS } from '../host-patterns.js';

export class SetApprovalDto {
  @ApiProperty({ enum: UPSTREAM_APPROVAL_STATES })
  @IsIn(UPSTREAM_APPROVAL_STATES)
  state: UpstreamApprovalState;

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @Length(1, 500)
  reason?: string;
}

export class SetAutoApproveDto {
  @ApiProperty({
    type: [String],
    description: 'host names (`mcp.example.com`), sub-domain wildcards (`*.corp.example`) or IP literals',
  })
  @IsArray()
  @ArrayMaxSize(MAX_AUTO_APPROVE_HOSTS)
  @IsString({ each: true })
  @Length(1, 253, { each: true })
  hosts: string[];
}
