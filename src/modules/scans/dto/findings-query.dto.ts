import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsISO8601, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import {
  FINDING_KINDS,
  SCAN_SEVERITIES,
  SOURCE_ID_PATTERN,
  TRIAGE_STATES,
  type TriageState,
} from '../../../../libs/contracts/src/index.js';
import { PageQuery } from '../../../core/http/page.dto.js';

const list = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean)
    : value;

export class FindingsQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'case-insensitive search in title, package and advisory id' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  q?: string;

  @ApiPropertyOptional({ enum: ['open', 'resolved', 'all'], default: 'open' })
  @IsOptional()
  @IsIn(['open', 'resolved', 'all'])
  status?: 'open' | 'resolved' | 'all';

  @ApiPropertyOptional({ description: 'comma-separated: critical,high,…' })
  @IsOptional()
  @Transform(list)
  @IsIn(SCAN_SEVERITIES, { each: true })
  severity?: string[];

  @ApiPropertyOptional({ description: 'comma-separated finding kinds' })
  @IsOptional()
  @Transform(list)
  @IsIn(FINDING_KINDS, { each: true })
  kind?: string[];

  @ApiPropertyOptional({ description: 'comma-separated triage states' })
  @IsOptional()
  @Transform(list)
  @IsIn(TRIAGE_STATES, { each: true })
  triage?: string[];

  @IsOptional() @IsString() @Matches(SOURCE_ID_PATTERN) source_id?: string;

  @IsOptional() @IsUUID() scan_id?: string;
}

export class TriageDto {
  @IsIn(TRIAGE_STATES) state: TriageState;

  @ApiPropertyOptional({ description: 'required for accepted_risk and false_positive' })
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  reason?: string;

  @ApiPropertyOptional({ description: 'accepted_risk only: when the acceptance lapses (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  expires_at?: string;

  @ApiPropertyOptional({
    description: 'only the finding reported by this endpoint (default: every endpoint)',
  })
  @IsOptional()
  @IsString()
  @Matches(SOURCE_ID_PATTERN)
  source_id?: string;
}
