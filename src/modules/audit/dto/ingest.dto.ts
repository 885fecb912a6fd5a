import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  AUDIT_ID_PATTERN,
  AUDIT_LIMITS,
  CALL_OUTCOMES,
  DECISIONS,
  DETECTOR_PATTERN,
  ERROR_CLASS_PATTERN,
  FINGERPRINT_PATTERN,
  RUNTIME_EVENT_TYPES,
  SOURCE_ID_PATTERN,
  SOURCE_ID_RULE,
  SPAN_ID_PATTERN,
  TRACE_ID_PATTERN,
  type CallOutcome,
  type Decision,
  type RuntimeAuditEvent,
  type RuntimeEventType,
} from '../../../../libs/contracts/src/index.js';
import { AcceptedAsIs } from '../../../core/http/validation.js';
import { isPlainValidIngest } from './ingest.check.js';
import { IsPlainText, ISO_WITH_ZONE } from './text.js';

const NAME = AUDIT_LIMITS.nameLength;

/** One pushed event (contract: `RuntimeAuditEvent` in libs/contracts). */
export class AuditEventDto implements RuntimeAuditEvent {
  @ApiProperty({ example: '01J9Z3M6Q4W8Y2K7T5R1N0B3C4', pattern: AUDIT_ID_PATTERN.source })
  @IsString()
  @Matches(AUDIT_ID_PATTERN, { message: 'event_id must be 1-128 characters of A-Z a-z 0-9 . _ : -' })
  event_id: string;

  @ApiProperty({ enum: RUNTIME_EVENT_TYPES })
  @IsIn(RUNTIME_EVENT_TYPES, { message: `type must be one of: ${RUNTIME_EVENT_TYPES.join(', ')}` })
  type: RuntimeEventType;

  @ApiProperty({ example: '2026-01-15T10:04:05.123Z', description: 'ISO 8601 with Z or an offset' })
  @IsString()
  @Matches(ISO_WITH_ZONE, {
    message: 'timestamp must be ISO 8601 with a time zone, e.g. 2026-01-15T10:04:05Z',
  })
  timestamp: string;

  @ApiPropertyOptional({ description: 'MCP client installation (fleet agent name)' })
  @IsOptional()
  @IsPlainText(NAME)
  agent?: string;

  @ApiPropertyOptional({ example: 'claude-desktop' })
  @IsOptional()
  @IsPlainText(NAME)
  client?: string;

  @ApiPropertyOptional({ description: 'MCP server (proxy) or upstream (gateway) name' })
  @IsOptional()
  @IsPlainText(NAME)
  server?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsPlainText(NAME)
  tool?: string;

  @ApiPropertyOptional({ example: 'tools/call' })
  @IsOptional()
  @IsPlainText(NAME)
  method?: string;

  @ApiPropertyOptional({ enum: DECISIONS, description: 'defaults to what the type implies' })
  @IsOptional()
  @IsIn(DECISIONS, { message: `decision must be one of: ${DECISIONS.join(', ')}` })
  decision?: Decision;

  @ApiPropertyOptional()
  @IsOptional()
  @IsPlainText(NAME)
  rule_id?: string;

  @ApiPropertyOptional({ description: 'why, for humans; secret-looking values are redacted' })
  @IsOptional()
  @IsPlainText(AUDIT_LIMITS.reasonLength, { multiline: true })
  reason?: string;

  @ApiPropertyOptional({ pattern: TRACE_ID_PATTERN.source })
  @IsOptional()
  @IsString()
  @Matches(TRACE_ID_PATTERN, { message: 'trace_id must be 32 lower-case hex digits (W3C trace context)' })
  trace_id?: string;

  @ApiPropertyOptional({ pattern: SPAN_ID_PATTERN.source })
  @IsOptional()
  @IsString()
  @Matches(SPAN_ID_PATTERN, { message: 'span_id must be 16 lower-case hex digits' })
  span_id?: string;

  @ApiPropertyOptional({ description: 'JSON-RPC request id, as a string' })
  @IsOptional()
  @IsPlainText(AUDIT_LIMITS.idLength)
  request_id?: string;

  @ApiPropertyOptional({ pattern: FINGERPRINT_PATTERN.source })
  @IsOptional()
  @IsString()
  @Matches(FINGERPRINT_PATTERN, { message: 'argument_fingerprint must be sha256:<64 hex digits>' })
  argument_fingerprint?: string;

  @ApiPropertyOptional({ pattern: FINGERPRINT_PATTERN.source })
  @IsOptional()
  @IsString()
  @Matches(FINGERPRINT_PATTERN, { message: 'previous_tool_fingerprint must be sha256:<64 hex digits>' })
  previous_tool_fingerprint?: string;

  @ApiPropertyOptional({ pattern: FINGERPRINT_PATTERN.source })
  @IsOptional()
  @IsString()
  @Matches(FINGERPRINT_PATTERN, { message: 'tool_fingerprint must be sha256:<64 hex digits>' })
  tool_fingerprint?: string;

  @ApiPropertyOptional({ type: [String], example: ['aws_access_key_id'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(AUDIT_LIMITS.detectorsPerEvent)
  @IsString({ each: true })
  @Matches(DETECTOR_PATTERN, { each: true, message: 'each of detectors must match [a-z0-9_.:-]{1,64}' })
  detectors?: string[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsPlainText(NAME)
  policy_version?: string;

  @ApiPropertyOptional({ minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000_000)
  count?: number;

  @ApiPropertyOptional({ enum: CALL_OUTCOMES })
  @IsOptional()
  @IsIn(CALL_OUTCOMES)
  outcome?: CallOutcome;

  @ApiPropertyOptional({ pattern: ERROR_CLASS_PATTERN.source, example: 'timeout' })
  @IsOptional()
  @IsString()
  @Matches(ERROR_CLASS_PATTERN, { message: 'error_class must match [a-z0-9_.:-]{1,64}' })
  error_class?: string;
}

@AcceptedAsIs(isPlainValidIngest)
export class IngestAuditDto {
  @ApiProperty({ example: 'laptop-42:proxy', pattern: SOURCE_ID_PATTERN.source })
  @IsString()
  @Matches(SOURCE_ID_PATTERN, { message: `source_id ${SOURCE_ID_RULE}` })
  source_id: string;

  @ApiPropertyOptional({ pattern: AUDIT_ID_PATTERN.source })
  @IsOptional()
  @IsString()
  @Matches(AUDIT_ID_PATTERN, { message: 'session_id must be 1-128 characters of A-Z a-z 0-9 . _ : -' })
  session_id?: string;

  @ApiProperty({ type: [AuditEventDto], maxItems: AUDIT_LIMITS.eventsPerBatch })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(AUDIT_LIMITS.eventsPerBatch)
  @ValidateNested({ each: true })
  @Type(() => AuditEventDto)
  events: AuditEventDto[];
}
