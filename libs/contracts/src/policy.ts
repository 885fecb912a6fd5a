/**
 * The policy API's wire contract: stored policies and their versions (`/v1/gateway/policies`), the dry run
 * (`POST /v1/gateway/evaluate`) and the verification keys of signed bundles (`GET /v1/policy/verification-key`).
 * The bundle itself (`GET /v1/policy/bundle`) is libs/policy's `SignedBundle`.
 *
 * Types only, apart from the limits: documents and decisions are libs/policy's types.
 */
import type { Decision, PolicyDocument, RuleBindings } from '../../policy/src/index.js';

/**
 * A policy name: 1–64 of `A-Za-z0-9._:-`, starting with a letter or digit. No `/`: the effective policy names
 * each rule `<policy name>/<rule id>`, and the name must never be ambiguous there.
 */
export const POLICY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export const POLICY_LIMITS = {
  nameLength: 64,
  descriptionLength: 2000,
  /** Serialised size of a dry run's `arguments`. */
  evaluateArgumentsChars: 1_000_000,
  /** Serialised size of a dry run's inline `draft` policy (name, document, bindings). */
  draftChars: 1_000_000,
  /** Compile problems listed in a 400's `details` (the message gives the total). */
  problemsReported: 100,
} as const;

/** A policy at one version, as `GET /v1/gateway/policies/{id}` returns it. */
export interface PolicyView {
  id: string;
  tenant_id: string;
  name: string;
  description: string | null;
  enabled: boolean;
  /** A libs/policy document; rule ids are as written (the bundle prefixes them with `<name>/`). */
  document: PolicyDocument;
  /** Bindings that apply to every rule of the policy, or null. */
  bindings: RuleBindings | null;
  version: number;
  /** True for the tombstone version a DELETE writes. */
  deleted: boolean;
  /** The tenant's bundle version this change produced. */
  bundle_version: number;
  /** When the policy was first created. */
  created_at: string;
  /** When this version was written, and by whom (`key:<name>`, `cli:<user>`). */
  updated_at: string;
  updated_by: string;
}

/** A policy (or one of its versions) in a list: the document is summarised by its rule count. */
export type PolicySummaryView = Omit<PolicyView, 'document'> & { rule_count: number };

/** `GET /v1/policy/verification-key`: every key a bundle from this control plane may be signed with. */
export interface PolicyVerificationKeys {
  current_key_id: string;
  keys: Array<{
    key_id: string;
    alg: 'Ed25519';
    /** SubjectPublicKeyInfo PEM. */
    public_key_pem: string;
    /** `{kty: "OKP", crv: "Ed25519", x, kid, alg: "EdDSA", use: "sig"}` */
    jwk: { kty: 'OKP'; crv: 'Ed25519'; x: string; kid: string; alg: 'EdDSA'; use: 'sig' };
  }>;
}

/** `POST /v1/gateway/evaluate`: the libs/policy decision and what it was decided against. */
export interface PolicyEvaluation extends Decision {
  /** The tenant's bundle version when the dry run read the policy. */
  bundle_version: number;
  /** Set when the dry run was against one policy (`policy_id`) instead of the effective policy. */
  policy_id: string | null;
  policy_version: number | null;
}
