import type { Upstream } from './upstream.js';

export interface RegistryChange {
  tenant: string;
  name: string;
  change: 'added' | 'removed' | 'changed';
  url: string;
}

/**
 * The routing table: (tenant, name) → upstream. A lookup takes the caller's tenant as a required argument
 * and never falls back to another tenant's entry: a name that exists only for another tenant is simply absent.
 */
export class UpstreamRegistry {
  private byTenant = new Map<string, Map<string, Upstream>>();

  get(tenant: string, name: string): Upstream | undefined {
    return this.byTenant.get(tenant)?.get(name);
  }

  /** The tenants that have an upstream of this name, sorted (for the upstream's protected-resource metadata). */
  tenantsOf(name: string): string[] {
    return [...this.byTenant]
      .filter(([, names]) => names.has(name))
      .map(([tenant]) => tenant)
      .sort();
  }

  /** Every upstream, sorted by tenant then name. */
  all(): Upstream[] {
    return [...this.byTenant.values()]
      .flatMap((names) => [...names.values()])
      .sort((a, b) =>
        a.tenant === b.tenant ? a.name.localeCompare(b.name) : a.tenant.localeCompare(b.tenant),
      );
  }

  /** Replaces the whole table; returns what changed, for the log. */
  replace(upstreams: Upstream[]): RegistryChange[] {
    const next = new Map<string, Map<string, Upstream>>();
    for (const upstream of upstreams) {
      let names = next.get(upstream.tenant);
      if (!names) next.set(upstream.tenant, (names = new Map()));
      names.set(upstream.name, upstream);
    }
    const changes: RegistryChange[] = [];
    for (const [tenant, names] of next) {
      for (const [name, upstream] of names) {
        const before = this.get(tenant, name);
        if (!before) changes.push({ tenant, name, change: 'added', url: upstream.url.href });
        else if (before.url.href !== upstream.url.href || before.transport !== upstream.transport) {
          changes.push({ tenant, name, change: 'changed', url: upstream.url.href });
        }
      }
    }
    for (const upstream of this.all()) {
      if (!next.get(upstream.tenant)?.has(upstream.name)) {
        changes.push({
          tenant: upstream.tenant,
          name: upstream.name,
          change: 'removed',
          url: upstream.url.href,
        });
      }
    }
    this.byTenant = next;
    return changes;
  }
}
