import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import {
  AUTH_MODES,
  CLIENTS,
  FLEET_LIMITS,
  INTROSPECTION_STATUSES,
  SOURCE_ID_PATTERN,
  SOURCE_ID_RULE,
  TRANSPORTS,
  type AuthMode,
  type Client,
  type FleetAgent,
  type FleetEndpoint,
  type FleetIntrospection,
  type FleetServer,
  type FleetSyncPayload,
  type FleetWarning,
  type Transport,
} from '../../../../libs/contracts/src/index.js';
import { AcceptedAsIs } from '../../../core/http/validation.js';
import { isPlainValidSync } from './fleet-sync.check.js';

const NAME = FLEET_LIMITS.nameLength;
const TEXT = FLEET_LIMITS.textLength;

/** A list of short names: bounded count, each 1..200 characters. */
function NameList(max: number) {
  return (target: object, key: string) => {
    IsOptional()(target, key);
    IsArray()(target, key);
    ArrayMaxSize(max)(target, key);
    IsString({ each: true })(target, key);
    Length(1, NAME, { each: true })(target, key);
  };
}

export class FleetIntrospectionDto implements FleetIntrospection {
  @IsIn(INTROSPECTION_STATUSES)
  status: FleetIntrospection['status'];

  @NameList(FLEET_LIMITS.toolsPerServer)
  tools?: string[];

  @IsOptional() @IsString() @MaxLength(1000) error?: string;
  @IsOptional() @IsString() @MaxLength(NAME) protocol_version?: string;
  @IsOptional() @IsString() @MaxLength(NAME) server_name?: string;
  @IsOptional() @IsString() @MaxLength(NAME) server_version?: string;
  @IsOptional() @IsISO8601() at?: string;
}

export class FleetServerDto implements FleetServer {
  @ApiProperty() @IsString() @Length(1, NAME) name: string;
  @ApiProperty({ enum: TRANSPORTS }) @IsIn(TRANSPORTS) transport: Transport;
  @IsOptional() @IsString() @MaxLength(TEXT) command?: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(FLEET_LIMITS.argsPerServer)
  @IsString({ each: true })
  @MaxLength(TEXT, { each: true })
  args?: string[];

  @IsOptional()
  @IsString()
  @MaxLength(TEXT)
  @Matches(/^(https?):\/\//i, { message: 'url must be http(s)' })
  url?: string;

  @NameList(FLEET_LIMITS.toolsPerServer)
  declared_tools?: string[];

  @ApiProperty({ enum: AUTH_MODES }) @IsIn(AUTH_MODES) auth_mode: AuthMode;

  @NameList(FLEET_LIMITS.credentialNamesPerServer)
  credential_env_names?: string[];

  @NameList(FLEET_LIMITS.credentialNamesPerServer)
  credential_header_names?: string[];

  @ApiProperty() @IsString() @Length(1, TEXT) config_path: string;
  @IsOptional() @IsIn(['global', 'project']) scope?: 'global' | 'project';
  @IsOptional() @IsString() @MaxLength(TEXT) project_path?: string;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => FleetIntrospectionDto)
  introspection?: FleetIntrospectionDto;
}

export class FleetAgentDto implements FleetAgent {
  @ApiProperty() @IsString() @Length(1, NAME) name: string;
  @ApiProperty({ enum: CLIENTS }) @IsIn(CLIENTS) client: Client;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @IsString({ each: true })
  @Length(1, TEXT, { each: true })
  config_paths?: string[];

  @ApiProperty({ type: [FleetServerDto] })
  @IsArray()
  @ArrayMaxSize(FLEET_LIMITS.serversPerAgent)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => FleetServerDto)
  servers: FleetServerDto[];
}

export class FleetEndpointDto implements FleetEndpoint {
  @IsOptional() @IsString() @MaxLength(NAME) hostname?: string;
  @IsOptional() @IsIn(['darwin', 'linux', 'win32', 'other']) os?: FleetEndpoint['os'];
  @IsOptional() @IsString() @MaxLength(NAME) os_release?: string;
  @IsOptional() @IsString() @MaxLength(NAME) agent_bom_version?: string;
  @IsOptional() @IsString() @MaxLength(NAME) owner?: string;
  @IsOptional() @IsString() @MaxLength(NAME) environment?: string;

  @NameList(FLEET_LIMITS.tagsPerEndpoint)
  tags?: string[];
}

export class FleetWarningDto implements FleetWarning {
  @IsString() @Length(1, TEXT) path: string;
  @IsOptional() @IsIn(CLIENTS) client?: Client;
  @IsString() @Length(1, 1000) message: string;
}

/** A sync the hand-written check accepts skips class-transformer and class-validator (fleet-sync.check.ts). */
@AcceptedAsIs(isPlainValidSync)
export class FleetSyncDto implements FleetSyncPayload {
  @ApiProperty({ description: 'Stable endpoint identity', pattern: SOURCE_ID_PATTERN.source })
  @IsString()
  @Matches(SOURCE_ID_PATTERN, { message: `source_id ${SOURCE_ID_RULE}` })
  source_id: string;

  @ApiPropertyOptional({ type: FleetEndpointDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => FleetEndpointDto)
  endpoint?: FleetEndpointDto;

  @IsOptional() @IsISO8601() collected_at?: string;

  @ApiProperty({ type: [FleetAgentDto] })
  @IsArray()
  @ArrayMaxSize(FLEET_LIMITS.agentsPerSync)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => FleetAgentDto)
  agents: FleetAgentDto[];

  @ApiPropertyOptional({ type: [FleetWarningDto], description: 'What the endpoint could not read' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(FLEET_LIMITS.warningsPerSync)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => FleetWarningDto)
  warnings?: FleetWarningDto[];
}
