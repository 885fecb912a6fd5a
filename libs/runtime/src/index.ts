/**
 * The runtime core shared by the proxy and the gateway (pure TypeScript, no Nest): what both must mean the
 * same way. The apps keep only their transport (stdio framing; HTTP/SSE relay) and wiring.
 */
export { EgressGuard, EgressConfigError } from './egress.js';
export { fingerprint, withoutMeta } from './fingerprint.js';
export type { EgressRefusal, ProtectedEndpoint } from './egress.js';
export {
  ARGUMENT_DETECTOR_MODES,
  CREDENTIAL_ACTIONS,
  argumentDetectorStep,
  describeDetectors,
  scanResponse,
  toolCallShapeError,
  withheldReason,
} from './detector-steps.js';
export type {
  ArgumentDetectorMode,
  ArgumentVerdict,
  CredentialAction,
  ResponseFinding,
} from './detector-steps.js';
export { ERROR_CODES, WIRE_ERRORS, codesOf, reasonOf } from './errors.js';
export type { ReasonCode, WireError, WireSurface } from './errors.js';
export {
  MAX_ID_LENGTH,
  MAX_JSON_DEPTH,
  MAX_METHOD_LENGTH,
  clientNameOf,
  errorLine,
  errorResponse,
  idKey,
  isBlank,
  isObject,
  isRpcId,
  namesRequestMethod,
  parseMessage,
  readClientMessage,
  toolOf,
} from './jsonrpc.js';
export type {
  ClientMessage,
  JsonRpcId,
  JsonRpcNotification,
  JsonRpcRequest,
  JsonRpcResponse,
  Parsed,
} from './jsonrpc.js';
export { scanShape, traceparentInsertion, withMetaMembers, withTraceparent } from './jsonrpc-shape.js';
export type { FrameShape, Span } from './jsonrpc-shape.js';
export { continueTrace, newTrace, parseTraceparent, traceparentOf } from './trace.js';
export type { TraceContext } from './trace.js';
export { ReplayGuard } from './replay.js';
export type { DeferredPayload, ReplayPayload } from './replay.js';
export { ToolRegistry, compareTools, toolFingerprint } from './tools.js';
export type { DriftChange, DriftKind } from './tools.js';
export { ToolBaselineStore } from './tool-baseline.js';
export type { BaselineServer } from './tool-baseline.js';
export {
  declaredToolStep,
  driftLine,
  listAllTools,
  replayExempt,
  messagePayload,
  replayPayload,
  replayStep,
  shortToolName,
  unlistableTool,
  withoutDriftedTools,
} from './session-steps.js';
export type { SessionStepCode, SessionStepRefusal, ToolGateFlags } from './session-steps.js';
export {
  BundlePolicySource,
  compileSnapshot,
  DiskBundleStore,
  FailClosedError,
  FilePolicySource,
  keysFromDocument,
  loadPinnedKeys,
  MAX_POLICY_FILE_BYTES,
  MemoryBundleStore,
  PolicySourceError,
  readPolicyFile,
} from './policy-source/index.js';
export type {
  BundleFetcher,
  BundlePolicySourceOptions,
  BundleState,
  BundleStore,
  CachedBundle,
  FilePolicyEvents,
  FilePolicySourceOptions,
  PolicySnapshot,
  PolicySourceLogger,
  VerifiedBundle,
} from './policy-source/index.js';
export * from './audit/index.js';
