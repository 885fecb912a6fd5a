/** Shapes of the /v1 answers the console reads; the contracts live in libs/contracts (types only, erased). */
export type {
  ApiKeyView,
  ApprovalView,
  AutoApproveView,
  AuditEntryView,
  CreatedApiKey,
  DiscoveredUpstream,
  DiscoveryAnswer,
  GraphEdgeView,
  GraphImpactView,
  GraphPageView,
  MeView as Me,
  Permission,
  PolicySummaryView,
  PolicyView,
  PolicyEvaluation,
  SessionView,
  SsoProvidersView as SsoOptions,
  TenantView,
  UpstreamApprovalState,
  VerifyReport,
} from '../../../../libs/contracts/src/index.js';

export interface FleetEndpointView {
  source_id: string;
  hostname: string | null;
  os: string | null;
  os_release: string | null;
  owner: string | null;
  environment: string | null;
  tags: string[];
  warnings: { path: string; message: string }[];
  last_synced_at: string;
}

export interface FleetAgentView {
  id: string;
  source_id: string;
  client: string;
  name: string;
  config_paths: string[];
  server_count: number;
  endpoint: FleetEndpointView;
  first_seen_at: string;
  last_seen_at: string;
  servers?: FleetServerDetail[];
}

export interface FleetServerDetail {
  name: string;
  transport: string;
  command?: string | null;
  args?: string[];
  url?: string | null;
  declared_tools?: string[];
  auth_mode: string;
  credential_env_names?: string[];
  credential_header_names?: string[];
  config_path?: string;
  introspection?: { status: string; tools?: string[]; error?: string } | null;
}

export interface FleetServerView {
  name: string;
  transport: string;
  command: string | null;
  url: string | null;
  declared_tools: string[];
  tools: string[];
  auth_modes: string[];
  credential_env_names: string[];
  credential_header_names: string[];
  agent_count: number;
  endpoint_count: number;
  source_agents: { agent: string; client: string; hostname: string | null; source_id: string }[];
  first_seen_at: string;
  last_seen_at: string;
}

export interface FleetStats {
  endpoints: number;
  agents: number;
  servers: number;
  servers_with_credentials: number;
  last_synced_at: string | null;
  by_client: Record<string, number>;
  by_transport: Record<string, number>;
  by_auth_mode: Record<string, number>;
  by_environment: Record<string, number>;
}

/** `GET /v1/findings` items (scans module). */
export interface FindingView {
  id: string;
  source_id: string;
  kind: 'vulnerability' | 'floating_version' | 'credential_exposure' | string;
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
  status: 'open' | 'resolved';
  first_seen: string | null;
  last_seen: string | null;
  resolved_at: string | null;
  first_scan_id: string | null;
  last_scan_id: string | null;
  triage: {
    state: string;
    reason: string | null;
    expires_at: string | null;
    by: string | null;
    at: string | null;
  };
}

export interface RemediationItem {
  package: string;
  ecosystem: string;
  name: string;
  current_version: string;
  fixed_version: string | null;
  resolves: string[];
  unfixed: string[];
  severity: string;
  risk_removed: number;
  servers: string[];
  credentials: string[];
  changes: { file: string; kind: string; change: string }[];
}

export interface GraphNode {
  id: string;
  type?: string;
  kind?: string;
  label?: string;
  name?: string;
  [key: string]: unknown;
}
export interface GraphEdge {
  source: string;
  target: string;
  type?: string;
  kind?: string;
  [key: string]: unknown;
}
export interface GraphAnswer {
  nodes: GraphNode[];
  edges: GraphEdge[];
  [key: string]: unknown;
}
