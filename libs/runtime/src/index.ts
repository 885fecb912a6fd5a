/**
 * The runtime core shared by the proxy and the gateway (pure TypeScript, no Nest): what both must mean the
 * same way. The apps keep only their transport (stdio framing; HTTP/SSE relay) and wiring.
 */
export { EgressGuard, EgressConfigError } from './egress.js';
export { fingerprint, withoutMeta } from './fingerprint.js';
export type { EgressRefusal, ProtectedEndpoint } from './egress.js';
export { EgressRefusedError, guardedConnector } from './egress-connector.js';
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
export * from './audit/index.js';
