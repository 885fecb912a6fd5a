import type { AuditSink } from '../audit/audit-sink.js';
import type { ControlPlaneLink, DiscoveryAnswer } from '../control-plane/control-plane-link.js';
import type { BundlePolicy } from '../policy/policy-store.js';

/** The tenant used when no control plane says otherwise (bearer token or loopback-only gateways). */
export const DEFAULT_TENANT = 'default';

/** What the gateway holds for one tenant: its control-plane link, audit sink, bundle and discovered upstreams. */
export interface TenantState {
  readonly tenant: string;
  readonly link?: ControlPlaneLink;
  readonly audit: AuditSink;
  bundle?: BundlePolicy;
  discovered: DiscoveryAnswer['upstreams'];
}

/**
 * The tenants this gateway serves: one per `--control-plane-token` (the control plane says whose key it is), or
 * the default tenant without a control plane. The first key's tenant is the primary one (overlay entries without
 * a `tenant` and bearer-token callers belong to it).
 */
export class Tenants {
  private readonly states = new Map<string, TenantState>();
  private primaryTenant = DEFAULT_TENANT;

  get primary(): string {
    return this.primaryTenant;
  }

  get size(): number {
    return this.states.size;
  }

  /** More than one tenant: startup lines and logs name upstreams `tenant/name`. */
  get several(): boolean {
    return this.states.size > 1;
  }

  has(tenant: string): boolean {
    return this.states.has(tenant);
  }

  get(tenant: string): TenantState | undefined {
    return this.states.get(tenant);
  }

  values(): IterableIterator<TenantState> {
    return this.states.values();
  }

  names(): string[] {
    return [...this.states.keys()];
  }

  /** Adds a tenant; the first added is the primary one. */
  add(state: TenantState): void {
    if (this.states.size === 0) this.primaryTenant = state.tenant;
    this.states.set(state.tenant, state);
  }
}
