/**
 * The policy engine shared by the control plane, the proxy and the gateway: a typed policy document with a
 * published JSON Schema, a compiler that rejects anything it cannot enforce exactly, a fast evaluator with
 * an explained decision, a baseline pack, and Ed25519-signed bundles over RFC 8785 canonical JSON.
 * Pure TypeScript on node:crypto and node:url; no side effects on import.
 *
 * @example
 * const policy = compilePolicy(document); // throws PolicyCompileError naming rule and field
 * const decision = evaluate(policy, { method: 'tools/call', tool: 'read_file', arguments: { path: '~/.ssh/id_rsa' } }, { agent: 'builder' });
 * if (decision.effect === 'deny') refuse(decision.reason);
 */
export { ARGUMENT_OPS, BINDING_DIMENSIONS, EFFECTS, MODES, TOOL_CLASSES } from './types.js';
export type {
  ArgumentCondition,
  ArgumentOp,
  BindingDimension,
  Decision,
  Effect,
  EgressMatcher,
  EvaluationContext,
  JsonValue,
  MatchedRule,
  Mode,
  PolicyDocument,
  PolicyRule,
  RuleBindings,
  ToolCall,
  ToolClass,
} from './types.js';
export { LIMITS } from './limits.js';
export { compilePolicy } from './compile.js';
export type { CompiledPolicy } from './compile.js';
export { evaluate, evaluateAll } from './evaluate.js';
export { normalizeName } from './normalize.js';
export type { NormalizedName } from './normalize.js';
export { PolicyCompileError, BundleVerificationError, BUNDLE_ERROR_CODES } from './errors.js';
export type { PolicyProblem, BundleErrorCode } from './errors.js';
export { POLICY_JSON_SCHEMA } from './schema.js';
export { BASELINE_POLICY } from './baseline.js';
export { canonicalJson } from './canonical-json.js';
export { signBundle, verifyBundle, keyIdOf, publicKeyJwk, importPublicKey, signingInput } from './bundle.js';
export type { BundlePayload, SignedBundle, VerifyBundleOptions } from './bundle.js';
export { classesOfName, classNames } from './classify.js';
