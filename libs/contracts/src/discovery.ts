import type { Role } from './roles.js';

/**
 * Control-plane answers the runtime (gateway, proxy) reads, typed once here: the control plane builds them and
 * `libs/control-plane-client` parses them. Fields the seed documents keep their names; additions are optional so
 * older control planes still parse.
 */

/** Approval state of a discovered upstream (`PUT /v1/gateway/upstreams/{name}/approval`). */
export const UPSTREAM_APPROVAL_STATES = ['pending', 'approved', 'blocked'] as const;
export type UpstreamApprovalState = (typeof UPSTREAM_APPROVAL_STATES)[number];

/** One upstream in `GET /v1/gateway/upstreams/discovered`. */
export interface DiscoveredUpstream {
  name: string;
  url: string;
  transport: string;
  /** Always "none": discovery never sees credentials; gateways overlay them locally. */
  auth: 'none';
  /** Reporting endpoints, sorted; at most 100 (see source_agent_count). */
  source_agents: string[];
  source_agent_count?: number;
  /**
   * Added after the seed: whether an admin (or the tenant's auto-approve allow-list) approved routing to this
   * upstream. A gateway routes `approved` ones only; an answer without the field comes from a control plane
   * that predates approval and is treated as `pending`.
   */
  approval?: UpstreamApprovalState;
}

/** `GET`/`PUT /v1/gateway/upstreams/{name}/approval`. */
export interface ApprovalView {
  name: string;
  state: UpstreamApprovalState;
  reason: string | null;
  /** `key:<name>` of the admin, or `auto-approve:<pattern>` when the tenant's list approved it. */
  decided_by: string | null;
  decided_at: string | null;
}

/** `GET`/`PUT /v1/gateway/upstreams/auto-approve`. */
export interface AutoApproveView {
  hosts: string[];
  updated_by: string | null;
  updated_at: string | null;
}

/** Two URLs reported under one name: both are listed (later ones suffixed) and the clash is reported here. */
export interface DiscoveryConflict {
  name: string;
  upstreams: Array<{ name: string; url: string }>;
}

/** `GET /v1/gateway/upstreams/discovered`. */
export interface DiscoveryAnswer {
  tenant_id: string;
  source: string;
  generated_at: string;
  upstreams: DiscoveredUpstream[];
  conflicts: DiscoveryConflict[];
}

/** `POST /v1/auth/introspect`: `active: true` only for a usable key of the caller's own tenant. */
export type IntrospectionAnswer =
  | { active: false }
  | { active: true; tenant_id: string; role: Role; subject: string; key_id: string; permissions: string[] };
