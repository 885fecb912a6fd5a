import {
  argumentDetectorStep,
  declaredToolStep,
  shortToolName,
  type ToolRegistry,
  type TraceContext,
} from '../../../../libs/runtime/src/index.js';
import type { EvaluationContext, ToolCall } from '../../../../libs/policy/src/index.js';
import type { ProxyConfig } from '../config.js';
import { refusal, type Refusal } from '../errors.js';
import type { PolicySet } from '../policy/policy-set.js';

/** A refusal with what its audit event should carry. */
export interface Denial {
  readonly refused: Refusal;
  readonly ruleId?: string | null;
  readonly policyVersion?: string;
  readonly detectors?: string[];
}

/** What a check found that lets the call through, flagged. */
export interface Warnings {
  readonly texts: string[];
  ruleId: string | null;
  policyVersion?: string;
}

/** Steps 4–5: the tool must be declared (`--block-undeclared`) and must not have drifted (`--block-drift`). */
export function checkDeclared(config: ProxyConfig, tools: ToolRegistry, tool: string): Denial | undefined {
  const refused = declaredToolStep(config, tools, tool);
  return refused ? { refused: refusal(refused.code, refused.message) } : undefined;
}

/** Step 7: every loaded policy must allow; a `warn` is collected. */
export function checkPolicy(
  policies: PolicySet,
  call: ToolCall,
  context: EvaluationContext,
  trace: TraceContext,
  warnings: Warnings,
): Denial | undefined {
  const verdict = policies.decide(call, context);
  if (verdict.effect === 'deny') {
    const where = verdict.source === 'control_plane' ? 'control-plane policy' : 'local policy';
    // The rule's reason already says `denied by rule "x": <condition>`: name the policy once, not the rule twice.
    const message = /^denied by rule /.test(verdict.reason)
      ? `denied by ${where} ${verdict.reason.slice('denied by '.length)}`
      : verdict.ruleId
        ? `denied by ${where} rule "${verdict.ruleId}": ${verdict.reason}`
        : `denied by ${where}: ${verdict.reason}`;
    return {
      refused: refusal('policy_denied', message, {
        rule_id: verdict.ruleId ?? undefined,
        policy_source: verdict.source,
        policy_version: verdict.version,
        trace_id: trace.traceId,
      }),
      ruleId: verdict.ruleId,
      policyVersion: verdict.version,
    };
  }
  if (verdict.effect === 'warn') {
    warnings.texts.push(verdict.reason);
    warnings.ruleId = verdict.ruleId;
    warnings.policyVersion = verdict.version;
  }
  return undefined;
}

/**
 * Step 8: argument detectors (`libs/runtime`'s step, shared with the gateway). A block becomes an
 * `arguments_blocked` refusal; lower findings are collected as warnings.
 */
export function checkArguments(
  mode: ProxyConfig['argumentDetectors'],
  args: unknown,
  trace: TraceContext,
  warnings: Warnings,
): Denial | undefined {
  const verdict = argumentDetectorStep(mode, args);
  if (verdict.blocked) {
    return {
      refused: refusal('arguments_blocked', verdict.blocked.message, {
        detectors: verdict.blocked.detectors,
        trace_id: trace.traceId,
      }),
      detectors: verdict.detectors.slice(),
    };
  }
  warnings.texts.push(...verdict.warnings);
  return undefined;
}

/** A tool name fit to quote in a message: bounded (the logger and audit sanitise further). */
export const short = shortToolName;
