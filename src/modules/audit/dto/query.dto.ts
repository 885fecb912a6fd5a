import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import {
  ACTION_PATTERN,
  DECISIONS,
  TRACE_ID_PATTERN,
  TREND_DAYS,
} from '../../../../libs/contracts/src/index.js';
import { IsPlainText } from './text.js';

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

export class ListAuditQuery {
  @ApiPropertyOptional({ description: 'event type, e.g. tool_call.denied or api_key.created' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  @Matches(ACTION_PATTERN, { message: 'type must be a dotted event type such as tool_call.denied' })
  type?: string;

  @ApiPropertyOptional({ enum: ['runtime', 'control_plane'] })
  @IsOptional()
  @IsIn(['runtime', 'control_plane'], { message: 'origin must be runtime or control_plane' })
  origin?: 'runtime' | 'control_plane';

  @ApiPropertyOptional()
  @IsOptional()
  @IsPlainText(200)
  agent?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsPlainText(200)
  tool?: string;

  @ApiPropertyOptional({ enum: DECISIONS })
  @IsOptional()
  @IsIn(DECISIONS, { message: `decision must be one of: ${DECISIONS.join(', ')}` })
  decision?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(TRACE_ID_PATTERN, { message: 'trace_id must be 32 lower-case hex digits' })
  trace_id?: string;

  @ApiPropertyOptional({
    description: 'events at or after this time (ISO 8601; a date alone means midnight UTC)',
  })
  @IsOptional()
  @IsString()
  @Matches(ISO_WITH_ZONE, { message: 'since must be an ISO 8601 date or a time with a zone' })
  since?: string;

  @ApiPropertyOptional({ description: 'events before this time' })
  @IsOptional()
  @IsString()
  @Matches(ISO_WITH_ZONE, { message: 'until must be an ISO 8601 date or a time with a zone' })
  until?: string;

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
  @Length(1, 100)
  cursor?: string;
}

export class ExportAuditQuery {
  @ApiPropertyOptional({ description: 'first seq (default: the start of the chain)', minimum: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  from_seq?: number;

  @ApiPropertyOptional({ description: 'last seq (default: the head, including this export’s own record)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  to_seq?: number;
}

const DAYS_MESSAGE = `days must be a whole number from ${TREND_DAYS.min} to ${TREND_DAYS.max}`;

export class TrendsQuery {
  @ApiPropertyOptional({
    description: 'whole UTC days ending today',
    minimum: TREND_DAYS.min,
    maximum: TREND_DAYS.max,
    default: TREND_DAYS.default,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: DAYS_MESSAGE })
  @Min(TREND_DAYS.min, { message: DAYS_MESSAGE })
  @Max(TREND_DAYS.max, { message: DAYS_MESSAGE })
  days?: number;
}
