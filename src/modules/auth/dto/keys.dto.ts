import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { ROLES, type Role } from '../../../../libs/contracts/src/index.js';
import { PageQuery } from '../../../core/http/page.dto.js';

const DURATION = /^\d{1,6}[smhdw]$/;
const DURATION_HINT = 'must be a duration such as 90s, 15m, 12h, 30d or 2w';

export class CreateKeyDto {
  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES, { message: `role must be one of: ${ROLES.join(', ')}` })
  role: Role;

  @ApiPropertyOptional({
    description: 'Label for humans, 1-100 printable characters',
    example: 'ci-fleet-push',
  })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  @Matches(/^[\x20-\x7e]+$/, { message: 'name must be printable ASCII' })
  name?: string;

  @ApiPropertyOptional({
    description: 'Lifetime, e.g. 30d; at most 366d. Omit for a key that does not expire.',
  })
  @IsOptional()
  @IsString()
  @Matches(DURATION, { message: `expires_in ${DURATION_HINT}` })
  expires_in?: string;
}

export class RotateKeyDto {
  @ApiPropertyOptional({
    description:
      'How long the old key keeps working beside the new one, at most 24h. Omit to retire it at once.',
  })
  @IsOptional()
  @IsString()
  @Matches(DURATION, { message: `overlap ${DURATION_HINT}` })
  overlap?: string;
}

/** `GET /v1/auth/keys`: limit and cursor only. */
export class ListKeysQuery extends PageQuery {}
