import { Injectable } from '@nestjs/common';
import { POLICY_LIMITS, type PolicyEvaluation } from '../../../libs/contracts/src/index.js';
import {
  compilePolicy,
  evaluate,
  PolicyCompileError,
  type CompiledPolicy,
  type PolicyDocument,
} from '../../../libs/policy/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { DomainError, invalid } from '../../core/errors/domain-error.js';
import type { EvaluateDraftDto, EvaluateDto } from './dto/evaluate.dto.js';
import { EMPTY_POLICY, effectivePolicy, policyProblems } from './effective-policy.js';
import { invalidPolicy, policyNotFound } from './policy.errors.js';
import { PolicyRepository } from './policy.repository.js';
import { TtlCache } from './ttl-cache.js';

/**
 * Compiled documents kept: by (tenant, bundle version) or (tenant, policy, version), all immutable. A compiled
 * rule costs about 3 KB (a 10,000-rule policy ≈ 28 MB, 190 ms to compile), so only documents up to
 * {@link MAX_CACHED_RULES} are kept (≤ 16 × ~6 MB); bigger ones are compiled per dry run.
 */
const MAX_COMPILED = 16;
const MAX_CACHED_RULES = 2_000;
const COMPILED_TTL_MS = 5 * 60_000;

/**
 * `POST /v1/gateway/evaluate`: a dry run of one call against the tenant's effective policy (exactly what its
 * current bundle carries) or against one policy as it would contribute to it (renamed rules, policy bindings),
 * enabled or not, or against an unsaved `draft` (checked exactly as a save checks it, compiled for this call only,
 * never cached). Returns libs/policy's whole decision: nothing is written and nothing is audited.
 */
@Injectable()
export class PolicyEvaluateService {
  private readonly compiled = new TtlCache<CompiledPolicy>(COMPILED_TTL_MS, MAX_COMPILED);

  constructor(private readonly policies: PolicyRepository) {}

  async evaluate(principal: Principal, input: EvaluateDto): Promise<PolicyEvaluation> {
    const method = input.method ?? 'tools/call';
    if (method === 'tools/call' && input.tool === undefined)
      throw invalid('tool', 'is required for tools/call');
    if (input.arguments !== undefined) {
      const size = JSON.stringify(input.arguments).length;
      if (size > POLICY_LIMITS.evaluateArgumentsChars) {
        throw invalid(
          'arguments',
          `is larger than ${POLICY_LIMITS.evaluateArgumentsChars} characters of JSON`,
        );
      }
    }
    if (input.draft !== undefined && input.policy_id !== undefined) {
      throw invalid('draft', 'is evaluated on its own: send either draft or policy_id, not both');
    }
    const tenantId = principal.tenantId;
    let policy: CompiledPolicy;
    let bundleVersion: number;
    let source: { policy_id: string; policy_version: number } | null = null;
    if (input.draft !== undefined) {
      policy = compileDraft(input.draft);
      bundleVersion = await this.policies.bundleVersion(tenantId);
    } else if (input.policy_id) {
      const record = await this.policies.findCurrent(tenantId, input.policy_id);
      if (!record || record.deleted) throw policyNotFound();
      source = { policy_id: record.id, policy_version: record.version };
      policy = await this.compile(
        `${tenantId}\u0000${record.id}\u0000${record.version}`,
        effectivePolicy([record]),
      );
      bundleVersion = await this.policies.bundleVersion(tenantId);
    } else {
      const stored = await this.policies.findBundle(tenantId);
      bundleVersion = stored?.version ?? 0;
      policy = await this.compile(
        `${tenantId}\u0000\u0000${bundleVersion}`,
        stored?.document ?? EMPTY_POLICY,
      );
    }
    const decision = evaluate(
      policy,
      { method, tool: input.tool, arguments: input.arguments },
      { ...input.context },
    );
    return {
      ...decision,
      bundle_version: bundleVersion,
      policy_id: source?.policy_id ?? null,
      policy_version: source?.policy_version ?? null,
    };
  }

  private async compile(key: string, document: PolicyDocument): Promise<CompiledPolicy> {
    if (document.rules.length > MAX_CACHED_RULES) return compilePolicy(document);
    return this.compiled.get(key, async () => compilePolicy(document));
  }
}

/**
 * An unsaved policy as it would contribute to the effective policy: refused with a save's own 400 (every problem
 * with its rule and field) when a save would refuse it, and with a 413 above {@link POLICY_LIMITS.draftChars}
 * before any of that work.
 */
function compileDraft(draft: EvaluateDraftDto): CompiledPolicy {
  const size = JSON.stringify(draft).length;
  if (size > POLICY_LIMITS.draftChars) {
    throw new DomainError(
      'PAYLOAD_TOO_LARGE',
      `draft: is ${size} characters of JSON, more than the ${POLICY_LIMITS.draftChars} a dry run takes (save it disabled and dry-run it by policy_id)`,
      [{ field: 'draft', problems: [`larger than ${POLICY_LIMITS.draftChars} characters of JSON`] }],
    );
  }
  const name = draft.name ?? DRAFT_NAME;
  const problems = policyProblems(name, draft.document, draft.bindings);
  if (problems.length > 0) throw invalidPolicy(problems);
  try {
    return compilePolicy(
      effectivePolicy([{ name, document: draft.document, bindings: draft.bindings ?? null }]),
    );
  } catch (error) {
    // The draft compiles alone; its bound `deny` default can still add a rule past the limit, as on a save.
    if (!(error instanceof PolicyCompileError)) throw error;
    throw invalidPolicy(error.problems.map((p) => ({ ...p, where: `effective policy: ${p.where}` })));
  }
}

/** What a draft without a name is called in rule ids (`draft/<rule id>`). */
const DRAFT_NAME = 'draft';
