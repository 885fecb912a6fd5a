import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsObject, IsOptional, IsString, IsUUID, Length, Matches, ValidateNested } from 'class-validator';
import { POLICY_LIMITS, POLICY_NAME_PATTERN } from '../../../../libs/contracts/src/index.js';
import { LIMITS, type PolicyDocument, type RuleBindings } from '../../../../libs/policy/src/index.js';

/** Who is calling, through what, where: what rule bindings are matched against. */
export class EvaluateContextDto {
  @IsOptional() @IsString() @Length(1, LIMITS.maxNameLength) agent?: string;
  @IsOptional() @IsString() @Length(1, LIMITS.maxNameLength) client?: string;
  @IsOptional() @IsString() @Length(1, LIMITS.maxNameLength) environment?: string;
  @IsOptional() @IsString() @Length(1, LIMITS.maxNameLength) upstream?: string;
}

/**
 * An unsaved policy to dry-run: what `POST /v1/gateway/policies` would take, without description or enabled.
 * `document` and `bindings` are checked by the same code as a save (libs/policy, then the merge rules).
 */
export class EvaluateDraftDto {
  @ApiPropertyOptional({
    default: 'draft',
    description: 'The name its rules are prefixed with (`<name>/<rule id>`), as a saved policy would be',
  })
  @IsOptional()
  @IsString()
  @Matches(POLICY_NAME_PATTERN, {
    message: `draft.name must be 1-${POLICY_LIMITS.nameLength} of A-Z a-z 0-9 . _ : - starting with a letter or digit`,
  })
  name?: string;

  @ApiProperty({ description: 'A libs/policy document (see libs/policy/schema/policy.schema.json)' })
  @IsObject({ message: 'draft.document must be a policy document (a JSON object)' })
  document: PolicyDocument;

  @ApiPropertyOptional({ description: 'Policy-level bindings, as on a saved policy' })
  @IsOptional()
  @IsObject({ message: 'draft.bindings must be an object' })
  bindings?: RuleBindings;
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

  @ApiPropertyOptional({
    type: EvaluateDraftDto,
    description: `Evaluate this unsaved policy instead (not with policy_id): validated like a save, at most ${POLICY_LIMITS.draftChars} characters of JSON (413 above), nothing written`,
  })
  @IsOptional()
  @IsObject({ message: 'draft must be a policy: {name?, document, bindings?}' })
  @ValidateNested()
  @Type(() => EvaluateDraftDto)
  draft?: EvaluateDraftDto;
}
