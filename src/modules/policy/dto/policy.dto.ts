import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsObject, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { POLICY_LIMITS, POLICY_NAME_PATTERN } from '../../../../libs/contracts/src/index.js';
import type { PolicyDocument, RuleBindings } from '../../../../libs/policy/src/index.js';
import { PageQuery } from '../../../core/http/page.dto.js';
import { IsPlainText } from '../../audit/dto/text.js';

const MAX_VERSION = 999_999_999;

/**
 * `POST /v1/gateway/policies`, and the full replacement a `PUT` sends. `document` and `bindings` are checked by
 * libs/policy (`compilePolicy`), which names each problem's rule and field; here only their outer shape.
 */
export class PolicyDto {
  @ApiProperty({
    description:
      '1-64 of A-Za-z0-9 . _ : - (no "/"), unique among live policies; prefixes rule ids in bundles',
    example: 'no-shell-in-prod',
  })
  @IsString()
  @Matches(POLICY_NAME_PATTERN, {
    message: `name must be 1-${POLICY_LIMITS.nameLength} of A-Z a-z 0-9 . _ : - starting with a letter or digit`,
  })
  name: string;

  @ApiPropertyOptional({ maxLength: POLICY_LIMITS.descriptionLength })
  @IsOptional()
  @IsPlainText(POLICY_LIMITS.descriptionLength, { multiline: true })
  description?: string;

  @ApiPropertyOptional({ default: true, description: 'Disabled policies are kept but not in the bundle' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiProperty({
    description: 'A libs/policy document (see libs/policy/README.md and schema/policy.schema.json)',
    example: { version: 1, rules: [{ id: 'no-shell', effect: 'deny', tools: ['run_shell', 'shell_*'] }] },
  })
  @IsObject({ message: 'document must be a policy document (a JSON object)' })
  document: PolicyDocument;

  @ApiPropertyOptional({
    description:
      'agents / clients / environments / upstreams (names or globs) every rule of the policy is bound to',
    example: { environments: ['prod*'] },
  })
  @IsOptional()
  @IsObject({ message: 'bindings must be an object' })
  bindings?: RuleBindings;
}

export class UpdatePolicyDto extends PolicyDto {
  @ApiPropertyOptional({ description: 'Refuse (409) unless the policy is at this version; like If-Match' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_VERSION)
  expected_version?: number;
}

export class DeletePolicyDto {
  @ApiPropertyOptional({ description: 'Refuse (409) unless the policy is at this version; like If-Match' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_VERSION)
  expected_version?: number;
}

export class GetPolicyQuery {
  @ApiPropertyOptional({ description: 'A past version (history); default the current one' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_VERSION)
  version?: number;
}

/** `GET /v1/gateway/policies`: limit and cursor. */
export class ListPoliciesQuery extends PageQuery {}

/** `GET /v1/gateway/policies/{id}/versions`: limit and cursor. */
export class ListVersionsQuery extends PageQuery {}
