/**
 * The audit ledger's wire contract: what proxies and gateways push to `POST /v1/proxy/audit`, what the control
 * plane returns from `GET /v1/audit`, and the lines of `GET /v1/audit/export`.
 *
 * Security invariants: an event never carries a raw secret (arguments travel only as a fingerprint); the tenant
 * comes from the pushing credential, never from the event; every string is bounded.
 */

/**
 * Event types a proxy or gateway may push. Stable dotted names: dashboards and SIEM rules match on them.
 * Control-plane actions (`api_key.created`, `tenant.created`, …) are written by the control plane only and
 * can never be pushed.
 */
export const RUNTIME_EVENT_TYPES = [
  /** A `tools/call` (or other request) passed every check. */
  'tool_call.allowed',
  /** A request refused by policy, an undeclared-tool check or a detector. */
  'tool_call.denied',
  /** A request allowed, with a warning (policy `warn`, or `deny` in dry-run mode). */
  'tool_call.warned',
  /** A response (or arguments) forwarded with detected values replaced. */
  'response.redacted',
  /** A response withheld from the client. */
  'response.blocked',
  /** A request that repeated an earlier id and payload inside the replay window. */
  'replay.refused',
  /** A server changed a tool's definition after it was first listed. */
  'tool.drift',
  /** A policy (bundle or file) was loaded or reloaded. */
  'policy.loaded',
  /** A credential or PII detector matched (without a redact or block decision of its own). */
  'detector.hit',
  /** A request refused by a rate limit. */
  'rate_limit.exceeded',
  /**
   * A request refused before any tool was involved: malformed JSON-RPC, a header/body mismatch, an unknown
   * session, an oversized or too slow body, an upstream the caller's tenant does not have.
   */
  'request.refused',
] as const;
export type RuntimeEventType = (typeof RUNTIME_EVENT_TYPES)[number];

/** Control-plane actions recorded by the control plane itself (other modules add theirs, see docs/audit.md). */
export const CONTROL_PLANE_ACTIONS = [
  'tenant.created',
  'api_key.created',
  'api_key.revoked',
  'api_key.rotated',
  'audit.exported',
  'audit.pruned',
  'fleet.synced',
  'fleet.endpoint_enrolled',
  'fleet.endpoint_revoked',
  'fleet.endpoint_reenroll_opened',
  'fleet.push_refused',
  'gateway.upstream_approval_set',
  'gateway.auto_approve_set',
  'policy.created',
  'policy.updated',
  'policy.deleted',
] as const;

/** A control-plane action name: lower-case dotted, e.g. `policy.created`. */
export const ACTION_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

export const DECISIONS = ['allow', 'deny', 'warn', 'redact', 'block'] as const;
export type Decision = (typeof DECISIONS)[number];

/** The decision an event type implies; a pushed `decision` that contradicts it is refused. */
export const DECISION_OF_TYPE: Partial<Record<RuntimeEventType, Decision>> = {
  'tool_call.allowed': 'allow',
  'tool_call.denied': 'deny',
  'tool_call.warned': 'warn',
  'response.redacted': 'redact',
  'response.blocked': 'block',
  'replay.refused': 'deny',
  'rate_limit.exceeded': 'deny',
  'request.refused': 'deny',
};

/** Types that are about one tool and must name it. */
export const TYPES_REQUIRING_TOOL: readonly RuntimeEventType[] = [
  'tool_call.allowed',
  'tool_call.denied',
  'tool_call.warned',
  'tool.drift',
];

export const AUDIT_LIMITS = {
  /** Events in one `POST /v1/proxy/audit`. */
  eventsPerBatch: 1000,
  /** event_id, source_id, session_id, request_id. */
  idLength: 128,
  /** agent, client, server, tool, rule_id, method, policy_version. */
  nameLength: 200,
  /** reason (free text). */
  reasonLength: 1000,
  detectorsPerEvent: 32,
  /** Accepted clock skew into the future for an event's timestamp. */
  futureSkewSeconds: 86400,
} as const;

/** Ids: plain, log-safe identifiers (UUIDs, ULIDs, `host:pid:n`, …). */
export const AUDIT_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/** W3C trace-context trace id. */
export const TRACE_ID_PATTERN = /^[0-9a-f]{32}$/;
export const SPAN_ID_PATTERN = /^[0-9a-f]{16}$/;
/** Arguments and tool definitions travel only as a digest: `sha256:` + 64 lower-case hex digits. */
export const FINGERPRINT_PATTERN = /^sha256:[0-9a-f]{64}$/;
export const DETECTOR_PATTERN = /^[a-z0-9_.:-]{1,64}$/;

/**
 * What became of a call the runtime let through, recorded once the upstream answered (or could not):
 * `answered` (a result), `error` (the upstream answered with a JSON-RPC error), `upstream_failed` (no answer:
 * unreachable, timed out, an HTTP error, the server exited), `no_answer` (the client went away or the session
 * ended before the answer).
 */
export const CALL_OUTCOMES = ['answered', 'error', 'upstream_failed', 'no_answer'] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];
/** The class of a failure, e.g. `timeout`, `connect`, `http_502`, `jsonrpc_-32603`, `exited`. */
export const ERROR_CLASS_PATTERN = /^[a-z0-9_.:-]{1,64}$/;

/** One event as a proxy or gateway pushes it. Unknown fields are refused. */
export interface RuntimeAuditEvent {
  /** Unique per tenant; re-sending the same id is a no-op reported as a duplicate. */
  event_id: string;
  type: RuntimeEventType;
  /** When it happened, ISO 8601 with a time zone (`Z` or an offset); stored normalised to UTC. */
  timestamp: string;
  /** The MCP client installation (fleet agent name). */
  agent?: string;
  /** The MCP client product, e.g. `claude-desktop`. */
  client?: string;
  /** The MCP server (proxy) or upstream (gateway) name. */
  server?: string;
  tool?: string;
  /** JSON-RPC method, e.g. `tools/call`. */
  method?: string;
  /** Defaults to the decision the type implies. */
  decision?: Decision;
  rule_id?: string;
  /** Why, for humans. Secret-looking substrings are redacted on ingest. */
  reason?: string;
  trace_id?: string;
  span_id?: string;
  /** The JSON-RPC request id, as a string. */
  request_id?: string;
  /** `sha256:<hex>` of the canonical arguments: lets an investigator match calls without the values. */
  argument_fingerprint?: string;
  /** For `tool.drift`: digest of the definition first seen, and of the new one. */
  previous_tool_fingerprint?: string;
  tool_fingerprint?: string;
  /** Detector names that matched, e.g. `aws_access_key_id`, `email`. */
  detectors?: string[];
  /** For `policy.loaded`: the version or digest of the loaded policy. */
  policy_version?: string;
  /** A count that qualifies the event (redactions made, requests over the limit, …). */
  count?: number;
  /** For a call that was let through: what the upstream did with it (see {@link CALL_OUTCOMES}). */
  outcome?: CallOutcome;
  /** With `outcome` `error` or `upstream_failed`: which kind of failure. */
  error_class?: string;
}

export interface AuditIngestRequest {
  /** Which proxy or gateway instance pushed the batch. */
  source_id: string;
  session_id?: string;
  events: RuntimeAuditEvent[];
}

export interface AuditIngestResult {
  /** Events newly written (durable when this response is sent). */
  accepted: number;
  /** Events whose id was already stored with the same content: nothing written. */
  duplicates: number;
  /** Events whose id was already stored with different content: nothing written, the first one stands. */
  conflicts: number;
  /** Events in which a secret-looking value was replaced by `[redacted:<kind>]`. */
  redacted: number;
  duplicate_event_ids: string[];
  conflict_event_ids: string[];
  /** The chain positions written, or null when nothing was. */
  first_seq: number | null;
  last_seq: number | null;
}

/** Who caused an entry. Never a credential: a key is named by its id. */
export interface AuditActor {
  /** `key:<name>`, `cli:<os user>`, `system:<job>`. */
  subject: string;
  role: string;
  method: 'api_key' | 'session' | 'oidc' | 'scim' | 'system';
  key_id?: string;
  /** The actor's own tenant (differs from the entry's tenant when a platform admin creates a tenant). */
  tenant_id: string;
}

/** The event as stored and hashed: the pushed fields plus what the control plane adds. */
export interface StoredAuditEvent extends Partial<Omit<RuntimeAuditEvent, 'type'>> {
  event_id: string;
  type: string;
  timestamp: string;
  /** When the control plane accepted it (UTC ISO 8601). */
  received_at: string;
  origin: 'runtime' | 'control_plane';
  actor: AuditActor;
  source_id?: string;
  session_id?: string;
  /** Control-plane actions: what was acted on. */
  resource_type?: string;
  resource_id?: string;
  details?: Record<string, AuditDetailValue>;
  /** Fields in which the control plane redacted a secret-looking value. */
  redactions?: string[];
}

export type AuditDetailValue = string | number | boolean | null | string[];

/** One ledger entry: `hash = sha256(canonical_json({tenant_id, seq, prev_hash, event}))`. */
export interface AuditEntryView {
  tenant_id: string;
  seq: number;
  prev_hash: string;
  hash: string;
  event: StoredAuditEvent;
}

export const CHECKPOINT_PURPOSES = ['periodic', 'export', 'anchor'] as const;
export type CheckpointPurpose = (typeof CHECKPOINT_PURPOSES)[number];

/** What a checkpoint signs: "in tenant T, entry `seq` had hash `hash`". */
export interface CheckpointStatement {
  format: 'agent-bom.audit.checkpoint/v1';
  tenant_id: string;
  seq: number;
  hash: string;
  /** `anchor`: the entries before seq+1 were removed by retention; the chain may start after it. */
  purpose: CheckpointPurpose;
  signed_at: string;
  key_id: string;
}

export interface SignedCheckpoint extends CheckpointStatement {
  /** Ed25519 over the canonical JSON of the statement, base64url. */
  signature: string;
}

export const VERIFY_FAILURES = [
  'hash_mismatch',
  'link_broken',
  'seq_gap',
  'seq_order',
  'missing_head',
  'missing_tail',
  'head_mismatch',
  'checkpoint_mismatch',
  'checkpoint_signature_invalid',
  'checkpoint_unknown_key',
  'checkpoint_out_of_order',
  'wrong_tenant',
  'unsigned_tail',
  'malformed',
  'behind_witness',
  'witness_mismatch',
] as const;
export type VerifyFailure = (typeof VERIFY_FAILURES)[number];

export interface VerifyReport {
  ok: boolean;
  tenant_id: string;
  /** First and last seq that verified; null when there was nothing to verify. */
  verified_from: number | null;
  verified_to: number | null;
  entries_verified: number;
  checkpoints_verified: number;
  /** Highest seq covered by a verified signed checkpoint. */
  checkpointed_to: number | null;
  /** How the verified range starts: at seq 1, after a signed retention anchor, or (partial export) unanchored. */
  start: 'genesis' | 'anchor' | 'unanchored' | 'empty';
  first_broken: { seq: number | null; reason: VerifyFailure; detail: string; line?: number } | null;
}

/** Line kinds of an NDJSON export; see docs/audit.md for the format. */
export const EXPORT_FORMAT = 'agent-bom.audit.export/v1';

export interface VerificationKeyView {
  id: string;
  algorithm: 'Ed25519';
  /** SubjectPublicKeyInfo PEM. */
  public_key_pem: string;
  /** The raw 32-byte public key, base64url. */
  public_key: string;
  current: boolean;
}

/** Bounds of `GET /v1/audit/trends?days=`: whole UTC days ending today. */
export const TREND_DAYS = { min: 1, max: 90, default: 30 } as const;

/** One UTC day of `GET /v1/audit/trends`: runtime decisions by decision (zeros included) and open findings. */
export interface AuditTrendDay {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  decisions: Record<Decision, number>;
  total: number;
  /**
   * Findings open at the end of the day: first seen before it ends and not resolved by then. A finding resolved
   * and later reopened carries no resolution, so it counts as open across the gap.
   */
  open_findings: number;
}

export interface AuditTrendsView {
  days: number;
  /** First and last day of the series (the last is today, UTC). */
  from: string;
  to: string;
  series: AuditTrendDay[];
}
