/**
 * Client of the agent-bom control plane, shared by `agent-bom agents`, the proxy and the gateway: HTTPS-only
 * (loopback excepted) JSON calls with bearer keys, idempotency keys and bounded retries, plus the endpoint's
 * stable identity. No side effects on import.
 */
export { ControlPlaneClient } from './client.js';
export type { ControlPlaneClientOptions, GetOptions, GetResult, PostOptions, PostResult } from './client.js';
export { ControlPlaneError } from './errors.js';
export type { ControlPlaneErrorKind } from './errors.js';
export { backoffDelayMs, parseRetryAfter, RETRYABLE_STATUSES } from './retry.js';
export { checkedUrl, displayUrl, FLEET_SYNC_PATH, isLoopbackHost, resolvePushUrl } from './url.js';
export { describeEndpoint, machineSourceId } from './identity.js';
export type { MachineIdSources } from './identity.js';
