import type { Logger } from 'pino';
import { ConfigError } from '../config/config.js';
import type { ControlPlaneLink, DiscoveryAnswer } from '../control-plane/control-plane-link.js';
import { checkGatewayKeyRole } from './key-role.js';
import type { RoutingTable } from './routing.js';
import { discoveredLine } from './startup-lines.js';
import type { Tenants } from './tenants.js';

/** One control-plane key's first discovery answer, its role checked. */
export interface DiscoveredTenant {
  readonly link: ControlPlaneLink;
  readonly answer: DiscoveryAnswer;
}

/**
 * Boot: reads discovery once per `--control-plane-token`, checks each key's role, refuses two keys of one
 * tenant, and prints the seed's `discovered …` line per key. Throws on any failure (the gateway does not start).
 */
export async function discoverTenants(
  links: readonly ControlPlaneLink[],
  controlPlaneDisplay: string,
  print: (line: string) => void,
): Promise<DiscoveredTenant[]> {
  const found: DiscoveredTenant[] = [];
  const seen = new Set<string>();
  for (const link of links) {
    let answer: DiscoveryAnswer;
    try {
      answer = await link.discover();
    } catch (error) {
      throw new Error(`cannot read discovery from ${controlPlaneDisplay}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    await checkGatewayKeyRole(link, answer.tenant_id, controlPlaneDisplay);
    if (seen.has(answer.tenant_id))
      throw new ConfigError(`two --control-plane-token values are keys of tenant ${answer.tenant_id}`);
    seen.add(answer.tenant_id);
    const names = [...new Set(answer.upstreams.map((u) => u.name))].sort();
    print(
      discoveredLine(
        answer.upstreams.length,
        names,
        controlPlaneDisplay,
        links.length > 1 ? answer.tenant_id : undefined,
      ),
    );
    found.push({ link, answer });
  }
  return found;
}

/**
 * Re-reads discovery for every tenant every `intervalMs` and rebuilds the routing table (which logs each
 * upstream added, removed or re-pointed). A failed read keeps the tenant's last upstreams.
 */
export class DiscoveryRefresher {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly tenants: Tenants,
    private readonly routing: RoutingTable,
    private readonly logger: Logger,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    for (const state of this.tenants.values()) {
      if (!state.link) continue;
      try {
        const answer = await state.link.discover();
        if (answer.tenant_id === state.tenant) state.discovered = answer.upstreams;
      } catch (error) {
        this.logger.warn(
          { tenant: state.tenant, error: (error as Error).message },
          'discovery refresh failed; keeping the last upstreams',
        );
      }
    }
    this.routing.rebuild(true);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
