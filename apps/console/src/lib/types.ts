/** Shapes of the /v1 answers the console reads; the contracts live in libs/contracts (types only, erased). */
export type {
  ApiKeyView,
  ApprovalView,
  AutoApproveView,
  AuditEntryView,
  AuditTrendsView,
  CreatedApiKey,
  DiscoveredUpstream,
  DiscoveryAnswer,
  FindingDetailView,
  FindingView,
  FleetAgentDetailView,
  FleetAgentServerView,
  FleetAgentView,
  FleetServerView,
  FleetStatsView,
  GraphEdgeView,
  GraphImpactView,
  GraphPageView,
  MeView as Me,
  Permission,
  PolicySummaryView,
  PolicyView,
  PolicyEvaluation,
  RemediationPlanView,
  SessionView,
  SsoProvidersView as SsoOptions,
  TenantView,
  TriageResultView,
  UpstreamApprovalState,
  VerifyReport,
} from '../../../../libs/contracts/src/index.js';

/** What the graph view draws (console-only): built from `/v1/graph`, `/v1/graph/impact` or the fleet. */
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
