import type { Role } from './roles.js';

/**
 * Control-plane answers the runtime (gateway, proxy) reads, typed once here: the control plane builds them and
 * `libs/control-plane-client` parses them. Fields the seed documents keep their names; additions are optional so
 * older control planes still parse.
 */

/** Approval state of a discovered upstream (`PUT /v1/gateway/upstreams/{name}/approval`). */
export const UPSTREAM_APPROVAL_STATES = ['pending', 'approved', 'blocked'] as const;
export type UpstreamApprovalState = (typeof UPSTREAM_APPROVAL_STATES)[number];

/** Longest upstream name, a collision suffix included. */
export const UPSTREAM_NAME_MAX = 200;

/**
 * Upstream names a gateway routes at `/mcp/<name>`, whether discovered or named by an overlay: a letter or digit,
 * then letters, digits, `.`, `_` or `-`; 1-200 characters. Discovery hands out no other name.
 */
export const UPSTREAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
export const UPSTREAM_NAME_RULE = 'must be 1-200 of A-Z a-z 0-9 . _ -, starting with a letter or digit';

/**
 * The routable name discovery gives the `ordinal`-th URL reported under a server name (0: the bare name, then
 * `-1`, `-2`, …). A name that is already routable is kept as it is; any other is made routable: accents are
 * dropped (`ünïcode` → `unicode`), every run of other characters becomes `-` (`My Server` → `My-Server`), and
 * leading `.`/`_`/`-` and trailing `-` are trimmed; nothing left gives `upstream`. The name is cut so that the
 * suffix fits in {@link UPSTREAM_NAME_MAX}. Whatever clashes as a result gets the next suffix.
 */
export function upstreamName(reported: string, ordinal = 0): string {
  const suffix = ordinal === 0 ? '' : `-${ordinal}`;
  return upstreamBaseName(reported).slice(0, UPSTREAM_NAME_MAX - suffix.length) + suffix;
}

/** `reported` made routable, without a suffix: what a conflict is reported under. */
export function upstreamBaseName(reported: string): string {
  if (UPSTREAM_NAME.test(reported)) return reported;
  const slug = reported
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '')
    .slice(0, UPSTREAM_NAME_MAX);
  return slug || 'upstream';
}

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
