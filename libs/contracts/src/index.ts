/**
 * Contracts shared by the CLI, the proxy, the gateway and the control-plane API:
 * roles and permissions, id rules, payload shapes and error codes. No runtime dependencies.
 */
export {
  HUMAN_ROLES,
  MACHINE_ROLES,
  ROLES,
  PERMISSIONS,
  ROLE_PERMISSIONS,
  isRole,
  roleHasPermission,
  permissionsOf,
  canGrantRole,
} from './roles.js';
export type { HumanRole, MachineRole, Role, Permission } from './roles.js';
export { TENANT_ID_PATTERN, RESERVED_TENANT_IDS, tenantIdProblem } from './ids.js';
export { parseDuration } from './duration.js';
export { API_KEY_PREFIX, API_KEY_MAX_TTL_SECONDS, API_KEY_MAX_ROTATION_OVERLAP_SECONDS } from './api-keys.js';
export type { ApiKeyView, CreatedApiKey, TenantView, MeView } from './api-keys.js';
export { ERROR_CODES } from './errors.js';
export type { ErrorCode, ErrorEnvelope } from './errors.js';
export {
  TRANSPORTS,
  REMOTE_TRANSPORTS,
  CLIENTS,
  AUTH_MODES,
  INTROSPECTION_STATUSES,
  FLEET_LIMITS,
  SOURCE_ID_PATTERN,
  SOURCE_ID_RULE,
} from './fleet.js';
export type {
  Transport,
  Client,
  AuthMode,
  FleetIntrospection,
  FleetServer,
  FleetAgent,
  FleetEndpoint,
  FleetSyncPayload,
  FleetSyncResult,
  FleetWarning,
  FleetEnrollmentView,
} from './fleet.js';
export type {
  FleetEndpointView,
  FleetAgentView,
  FleetAgentServerView,
  FleetAgentDetailView,
  FleetServerView,
  FleetStatsView,
} from './fleet-views.js';
export {
  RUNTIME_EVENT_TYPES,
  CONTROL_PLANE_ACTIONS,
  ACTION_PATTERN,
  DECISIONS,
  TREND_DAYS,
  DECISION_OF_TYPE,
  TYPES_REQUIRING_TOOL,
  AUDIT_LIMITS,
  AUDIT_ID_PATTERN,
  TRACE_ID_PATTERN,
  SPAN_ID_PATTERN,
  FINGERPRINT_PATTERN,
  DETECTOR_PATTERN,
  CALL_OUTCOMES,
  ERROR_CLASS_PATTERN,
  CHECKPOINT_PURPOSES,
  VERIFY_FAILURES,
  EXPORT_FORMAT,
} from './audit.js';
export type {
  RuntimeEventType,
  CallOutcome,
  Decision,
  RuntimeAuditEvent,
  AuditIngestRequest,
  AuditIngestResult,
  AuditActor,
  StoredAuditEvent,
  AuditDetailValue,
  AuditEntryView,
  CheckpointPurpose,
  CheckpointStatement,
  SignedCheckpoint,
  VerifyFailure,
  VerifyReport,
  VerificationKeyView,
  AuditTrendDay,
  AuditTrendsView,
} from './audit.js';
export { POLICY_NAME_PATTERN, POLICY_LIMITS } from './policy.js';
export type { PolicyView, PolicySummaryView, PolicyVerificationKeys, PolicyEvaluation } from './policy.js';
export { FINDING_KINDS, RESULTS_PUSH_PATH, SCAN_LIMITS, SCAN_SEVERITIES, TRIAGE_STATES } from './scans.js';
export type {
  FindingKind,
  FindingTriageView,
  FindingView,
  FindingDetailView,
  RemediationItemView,
  RemediationPlanView,
  ScanFinding,
  ScanPackage,
  ScanReport,
  ScanSeverity,
  TriageResultView,
  TriageState,
} from './scans.js';
export { GRAPH_EDGE_KINDS, GRAPH_NODE_TYPES, IMPACT_GROUPS, IMPACT_GROUP_TYPES } from './graph.js';
export type {
  GraphEdgeKind,
  GraphEdgeView,
  GraphImpactView,
  GraphNodeType,
  GraphNodeView,
  GraphPageView,
  ImpactGroup,
  ImpactNodeView,
} from './graph.js';
export {
  UPSTREAM_APPROVAL_STATES,
  UPSTREAM_NAME,
  UPSTREAM_NAME_MAX,
  UPSTREAM_NAME_RULE,
  upstreamBaseName,
  upstreamName,
} from './discovery.js';
export type {
  ApprovalView,
  AutoApproveView,
  UpstreamApprovalState,
  DiscoveredUpstream,
  DiscoveryConflict,
  DiscoveryAnswer,
  IntrospectionAnswer,
} from './discovery.js';
export type {
  GatewayOidcAnswer,
  GatewayOidcIssuer,
  GatewaySubjectQuery,
  GatewaySubjectStanding,
  SsoProvidersView,
  SessionVia,
  SessionView,
} from './sso.js';
