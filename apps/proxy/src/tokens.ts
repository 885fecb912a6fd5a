/** Injection tokens for the values the light start-up path prepares before Nest is loaded. */
export const PROXY_CONFIG = Symbol('PROXY_CONFIG');
export const RELAY_IO = Symbol('RELAY_IO');
export const BUNDLE_SYNC = Symbol('BUNDLE_SYNC');
export const AUDIT_IDENTITY = Symbol('AUDIT_IDENTITY');
export const CONTROL_PLANE_CLIENT = Symbol('CONTROL_PLANE_CLIENT');
export const AUDIT_SPOOL = Symbol('AUDIT_SPOOL');
