import type { UpstreamRegistry } from '../upstreams/registry.js';
import type { NotFronted } from './routing.js';

/**
 * The gateway's startup lines (seed format): `discovered …` per control-plane key, `fronting …`, and a third
 * line naming what is known but not fronted, and why. With several tenants, names are `tenant/name`.
 */
export function discoveredLine(
  count: number,
  names: readonly string[],
  controlPlaneDisplay: string,
  tenant: string | undefined,
): string {
  const scope = tenant ? ` for tenant ${tenant}` : '';
  return `discovered ${count} upstream(s) from ${controlPlaneDisplay}${scope}: ${names.join(', ') || '(none)'}`;
}

/** Names for the `fronting …` line: bare names for one tenant, `tenant/name` for several. */
export function frontedNames(registry: UpstreamRegistry, several: boolean): string[] {
  const all = registry.all();
  return several ? all.map((u) => `${u.tenant}/${u.name}`) : all.map((u) => u.name);
}

/** The third startup line: what is known but not fronted, and why; undefined when everything is fronted. */
export function notFrontedLine(notFronted: readonly NotFronted[], several: boolean): string | undefined {
  if (!notFronted.length) return undefined;
  const names = notFronted.map((u) => `${several ? `${u.tenant}/` : ''}${u.name} (${u.why})`);
  return `not fronting ${names.length} upstream(s): ${names.join(', ')}`;
}
