/**
 * Endpoint discovery for `agent-bom agents`: finds MCP client configs (per OS layout), maps their servers to
 * the fleet contract with credential NAMES only, and optionally introspects the servers (initialize +
 * tools/list, never tools/call). Pure TypeScript; no side effects on import.
 */
export { discover, MAX_KNOWN_PROJECTS } from './discover.js';
export type { DiscoverOptions, Discovery, DiscoveredServer, DiscoveryWarning } from './discover.js';
export { DISCOVERY_OSES, globalLocations, projectLocations } from './locations.js';
export type { ConfigLocation, DiscoveryOs, HomeLayout } from './locations.js';
export { LaunchSpec } from './normalize.js';
export { DEFAULT_MAX_FILE_BYTES } from './read-config.js';
export {
  DEFAULT_INTROSPECT_CONCURRENCY,
  DEFAULT_INTROSPECT_TIMEOUT_MS,
  introspectServer,
  introspectServers,
} from './introspect/introspect.js';
export type { IntrospectOptions, IntrospectionOutcome } from './introspect/introspect.js';
export { killAllChildren } from './introspect/child-transport.js';
