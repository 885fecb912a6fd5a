/**
 * Where a policy source reports what it did (the proxy's stderr logger, the gateway's pino behind an adapter).
 * Messages name versions, files and tenants; never a key, token or policy argument value.
 */
export interface PolicySourceLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}
