import type { Logger } from 'pino';
import type { EgressGuard } from '../../../../libs/runtime/src/index.js';
import type { DiscoveredUpstream } from '../control-plane/control-plane-link.js';
import type { OverlayEntry } from '../upstreams/overlay.js';
import type { UpstreamRegistry } from '../upstreams/registry.js';
import {
  transportOf,
  UPSTREAM_NAME,
  upstreamWithoutCredentials,
  type Upstream,
} from '../upstreams/upstream.js';
import type { Tenants } from './tenants.js';

/** An upstream known but not routed, and why (pending or blocked approval, refused by egress): the third line. */
export interface NotFronted {
  readonly tenant: string;
  readonly name: string;
  readonly why: string;
}

export interface RoutingDeps {
  readonly registry: UpstreamRegistry;
  readonly tenants: Tenants;
  readonly egress: EgressGuard;
  readonly overlay: () => readonly OverlayEntry[];
  readonly logger: Logger;
  readonly print: (line: string) => void;
}

/**
 * The routing table: every tenant's discovered upstreams (approved, routable, allowed by egress) overlaid by the
 * operator's YAML entries, written into the registry. Rebuilt at start and after each discovery refresh; after
 * start, each change (added, removed, re-pointed) is logged and printed.
 */
export class RoutingTable {
  private skipped: NotFronted[] = [];

  constructor(private readonly deps: RoutingDeps) {}

  /** What is known but not fronted, sorted by `tenant/name`. */
  get notFronted(): readonly NotFronted[] {
    return this.skipped;
  }

  rebuild(announceChanges: boolean): void {
    const { registry, tenants } = this.deps;
    const upstreams: Upstream[] = [];
    const notFronted: NotFronted[] = [];
    for (const state of tenants.values()) {
      const byName = new Map<string, Upstream>();
      const skipped = new Map<string, string>();
      for (const found of state.discovered) {
        if (!UPSTREAM_NAME.test(found.name)) {
          // Quoted, so a space, a comma or a control character cannot blur the line (this control plane
          // hands out no such name; an older one did).
          skipped.set(JSON.stringify(found.name), 'name not routable at /mcp/<name>');
          continue;
        }
        let url: URL | undefined;
        try {
          url = new URL(found.url);
        } catch {
          url = undefined;
        }
        if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
          skipped.set(found.name, 'unusable address');
          continue;
        }
        const why = approvalProblem(found.approval) ?? this.egressProblem(url);
        if (why) {
          skipped.set(found.name, why);
          continue;
        }
        byName.set(
          found.name,
          upstreamWithoutCredentials({
            tenant: state.tenant,
            name: found.name,
            url,
            transport: transportOf(found.transport, url),
            source: 'discovery',
          }),
        );
      }
      for (const entry of this.deps.overlay()) {
        if ((entry.tenant ?? tenants.primary) !== state.tenant) continue;
        // Overlay entries are the operator's own: no approval needed, but egress applies to them too.
        const upstream = entry.build(state.tenant);
        const refusal = this.egressProblem(upstream.url);
        if (refusal) {
          byName.delete(entry.name);
          skipped.set(entry.name, refusal);
          continue;
        }
        skipped.delete(entry.name);
        byName.set(entry.name, upstream);
      }
      for (const [name, why] of skipped) {
        if (byName.has(name)) continue;
        notFronted.push({ tenant: state.tenant, name, why });
      }
      upstreams.push(...byName.values());
    }
    this.skipped = notFronted.sort((a, b) => `${a.tenant}/${a.name}`.localeCompare(`${b.tenant}/${b.name}`));
    const changes = registry.replace(upstreams);
    if (!announceChanges) return;
    for (const change of changes) {
      this.deps.logger.info(
        { tenant: change.tenant, upstream: change.name, change: change.change },
        `upstream ${change.change}`,
      );
      this.deps.print(
        `upstream ${change.change}: ${tenants.several ? `${change.tenant}/` : ''}${change.name}`,
      );
    }
  }

  private egressProblem(url: URL): string | undefined {
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const refusal = this.deps.egress.checkLiteral(url.hostname, port);
    return refusal ? `refused by egress: ${refusal.address} ${refusal.reason}` : undefined;
  }
}

/** Discovered upstreams are routed only once approved in the control plane. */
function approvalProblem(approval: DiscoveredUpstream['approval']): string | undefined {
  if (approval === 'approved') return undefined;
  if (approval === 'pending') return 'pending approval';
  if (approval === 'blocked') return 'blocked';
  // Fail closed: an answer without the field (a control plane from before approval) proves no admin approved it.
  return 'approval unknown (control plane reports none)';
}
