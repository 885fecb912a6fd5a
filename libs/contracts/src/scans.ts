/**
 * The scan result `agent-bom scan` prints with `--format json` and pushes to `POST /v1/results/push`.
 * Credential VALUES never appear: only the names of credential-bearing env vars and headers.
 */
import type { FleetAgent, FleetEndpoint } from './fleet.js';

export const SCAN_SEVERITIES = ['none', 'low', 'medium', 'high', 'critical'] as const;
export type ScanSeverity = (typeof SCAN_SEVERITIES)[number];

export const FINDING_KINDS = [
  'vulnerability',
  'floating_version',
  'credential_exposure',
  'dangerous_tool',
  'tool_drift',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export interface ScanPackage {
  purl: string;
  ecosystem: 'npm' | 'pypi' | 'docker';
  name: string;
  version?: string;
  confidence: 'pinned' | 'range' | 'floating';
  /** `agent/server` references of the servers that run this package (empty for project-only packages). */
  servers: string[];
  /** Lockfiles or launchers it was found in. */
  origins: string[];
}

export interface ScanFinding {
  /** Stable across scans: the same kind, subject and rule always give the same id. */
  id: string;
  kind: FindingKind;
  severity: ScanSeverity;
  title: string;
  /** The package purl (vulnerability, floating_version) or `agent/server` (credential_exposure, dangerous_tool, tool_drift). */
  subject: string;
  advisory_id?: string;
  aliases?: string[];
  cvss_score?: number;
  cvss_vector?: string;
  fixed_version?: string;
  /** `agent/server` references the finding reaches. */
  servers: string[];
  /** Credential NAMES reachable through those servers. */
  credentials: string[];
  /** Tools involved (dangerous_tool: the classified tools; tool_drift: undeclared and missing tools). */
  tools?: string[];
  /** Where to fix it: a lockfile or MCP config path. */
  locations: string[];
}

export interface ScanReport {
  schema_version: '1';
  document_type: 'agent-bom.scan';
  scan_id: string;
  generated_at: string;
  source_id: string;
  endpoint?: FleetEndpoint;
  advisory_source: { description: string; advisories?: number };
  agents: FleetAgent[];
  packages: ScanPackage[];
  findings: ScanFinding[];
  summary: {
    agents: number;
    servers: number;
    packages: number;
    vulnerable_packages: number;
    findings: Record<ScanSeverity, number>;
  };
  warnings: Array<{ path: string; message: string }>;
}

/** Bounds the control plane enforces on a pushed result. */
export const SCAN_LIMITS = { agents: 1000, packages: 10_000, findings: 10_000, warnings: 500 } as const;

/** Where `agent-bom scan` pushes results (relative to the control-plane URL). */
export const RESULTS_PUSH_PATH = '/v1/results/push';

/** A finding's triage states: `accepted_risk` may carry an expiry; every state but `open` needs a reason. */
export const TRIAGE_STATES = ['open', 'accepted_risk', 'false_positive'] as const;
export type TriageState = (typeof TRIAGE_STATES)[number];

/** A finding's triage (one of {@link TRIAGE_STATES}) and who set it. */
export interface FindingTriageView {
  state: string;
  reason: string | null;
  expires_at: string | null;
  by: string | null;
  at: string | null;
}

/**
 * An item of `GET /v1/findings`: one finding on one endpoint (`source_id`), folded across that endpoint's scans.
 * The same `id` on two endpoints is two items.
 */
export interface FindingView {
  id: string;
  source_id: string;
  /** One of {@link FINDING_KINDS}. */
  kind: string;
  /** One of {@link SCAN_SEVERITIES}. */
  severity: string;
  risk_score: number;
  title: string;
  subject: string;
  advisory_id: string | null;
  fixed_version: string | null;
  cvss_score: number | null;
  servers: string[];
  credentials: string[];
  locations: string[];
  /** `resolved` once a later scan of its endpoint no longer reports it. */
  status: 'open' | 'resolved';
  first_seen: string;
  last_seen: string;
  resolved_at: string | null;
  first_scan_id: string;
  last_scan_id: string;
  triage: FindingTriageView;
}

/**
 * `GET /v1/findings/{id}`: the finding on every endpoint that reports it (open ones first, then by severity and
 * last seen), so a finding's page needs one request.
 */
export interface FindingDetailView {
  id: string;
  items: FindingView[];
}

/** `PATCH /v1/findings/:id/triage`: the new state and how many endpoints' findings took it. */
export interface TriageResultView {
  id: string;
  state: string;
  updated: number;
}

/** One vulnerable package and the upgrade that fixes it, ranked by the risk the upgrade removes. */
export interface RemediationItemView {
  /** The package purl. */
  package: string;
  ecosystem: string;
  name: string;
  current_version: string;
  /** The lowest version that fixes every advisory with a known fix; null when none has one. */
  fixed_version: string | null;
  /** Advisories the upgrade resolves, and those with no fix yet. */
  resolves: string[];
  unfixed: string[];
  severity: string;
  risk_removed: number;
  servers: string[];
  credentials: string[];
  /** Exact edits: one per lockfile or MCP config that pins the package. */
  changes: Array<{ file: string; kind: 'lockfile' | 'mcp_config'; change: string }>;
}

/** `GET /v1/remediation` (the tenant's open vulnerability findings) and `GET /v1/scan/:id/remediation`. */
export interface RemediationPlanView {
  /** Present on the per-scan answer only. */
  scan_id?: string;
  remediation_plan: RemediationItemView[];
  total: number;
}
