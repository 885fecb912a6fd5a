import { randomUUID } from 'node:crypto';
import dns from 'node:dns/promises';
import os from 'node:os';
import type { Logger } from 'pino';
import {
  isRole,
  roleHasPermission,
  type MeView,
  type Permission,
} from '../../../libs/contracts/src/index.js';
import { AuditSink, type GatewayAuditEvent } from './audit/audit-sink.js';
import { Authenticator } from './auth/authenticator.js';
import { ConfigError, type GatewayConfig } from './config/config.js';
import {
  ControlPlaneLink,
  type DiscoveredUpstream,
  type DiscoveryAnswer,
} from './control-plane/control-plane-link.js';
import { GatewayMetrics } from './http/metrics.js';
import type { LoadedPolicy } from './policy/loaded-policy.js';
import { BundlePolicy, FilePolicy } from './policy/policy-store.js';
import { MemoryRateLimiter } from './rate-limit/memory-rate-limiter.js';
import { PostgresRateLimiter } from './rate-limit/postgres-rate-limiter.js';
import type { RateLimiter } from './rate-limit/rate-limiter.js';
import type { RelayDeps } from './relay/relay-context.js';
import { SessionIds } from './relay/session-ids.js';
import { StatefulSessions } from './relay/stateful-sessions.js';
import { UpstreamClient } from './relay/upstream-client.js';
import { AuditFile, EgressConfigError, EgressGuard } from '../../../libs/runtime/src/index.js';
import { loadOverlay, type OverlayEntry } from './upstreams/overlay.js';
import { UpstreamRegistry } from './upstreams/registry.js';
import {
  transportOf,
  UPSTREAM_NAME,
  upstreamWithoutCredentials,
  type Upstream,
} from './upstreams/upstream.js';

export const GATEWAY_RUNTIME = Symbol('GATEWAY_RUNTIME');

/** What the gateway does with its control-plane key: read discovery, check client keys, pull policy, push audit. */
const GATEWAY_KEY_PERMISSIONS: Permission[] = [
  'discovery:read',
  'keys:introspect',
  'policy:bundle',
  'audit:write',
];

/** The tenant used when no control plane says otherwise (bearer token or loopback-only gateways). */
export const DEFAULT_TENANT = 'default';

interface TenantState {
  tenant: string;
  link?: ControlPlaneLink;
  audit: AuditSink;
  bundle?: BundlePolicy;
  discovered: DiscoveryAnswer['upstreams'];
}

/**
 * Everything the gateway runs on, built before the HTTP app: the control-plane links (one per tenant key), the
 * routing table (discovery overlaid by the YAML), incoming auth, policy (file and/or bundle), the rate limiter,
 * audit sinks and the upstream connection pools. `start()` does the network work of boot and prints the
 * seed's `discovered …` lines.
 */
export class GatewayRuntime {
  readonly metrics = new GatewayMetrics();
  readonly registry = new UpstreamRegistry();
  readonly upstreams: UpstreamClient;
  readonly sessionIds: SessionIds;
  readonly statefulSessions: StatefulSessions;
  readonly links: ControlPlaneLink[];
  readonly tenants = new Map<string, TenantState>();
  limiter?: RateLimiter;
  filePolicy?: FilePolicy;
  authenticator!: Authenticator;
  readonly egress: EgressGuard;
  /** Upstreams known but not routed, and why (pending or blocked approval, refused by egress): the third line. */
  notFronted: Array<{ tenant: string; name: string; why: string }> = [];
  private overlay: OverlayEntry[] = [];
  private primaryTenant = DEFAULT_TENANT;
  private refreshTimer?: NodeJS.Timeout;
  private readonly auditIdentity = {
    sourceId: `gateway:${
      os
        .hostname()
        .replace(/[^A-Za-z0-9._:-]/g, '-')
        .slice(0, 150) || 'host'
    }`,
    sessionId: randomUUID(),
  };
  /** `--audit-file`: one local record for every tenant (lines carry the tenant). */
  private readonly auditFile?: AuditFile;

  constructor(
    readonly config: GatewayConfig,
    private readonly env: NodeJS.ProcessEnv,
    readonly logger: Logger,
    private readonly print: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {
    try {
      this.egress = new EgressGuard(config.egressAllow);
    } catch (error) {
      if (error instanceof EgressConfigError) throw new ConfigError(error.message);
      throw error;
    }
    if (config.controlPlane) {
      const cpUrl = new URL(config.controlPlane.url);
      this.egress.protect({
        host: cpUrl.hostname,
        port: Number(cpUrl.port) || (cpUrl.protocol === 'https:' ? 443 : 80),
      });
    }
    this.upstreams = new UpstreamClient({
      connections: config.upstreamConnections,
      timeoutMs: config.upstreamTimeoutMs,
      egress: this.egress,
    });
    if (config.auditFile) {
      const log = (message: string) => this.logger.error(message);
      this.auditFile = new AuditFile(
        { ...config.auditFile, ...this.auditIdentity },
        { info: (m) => this.logger.info(m), warn: log, error: log },
      );
      try {
        this.auditFile.open();
      } catch (error) {
        throw new ConfigError(
          `--audit-file: cannot open ${config.auditFile.path}: ${(error as Error).message}`,
        );
      }
    }
    this.sessionIds = new SessionIds(config.sessionSecret);
    this.statefulSessions = new StatefulSessions(config.sessionLimits, 30 * 60_000, (count) =>
      this.metrics.sessions.set(count),
    );
    const cp = config.controlPlane;
    this.links = cp ? cp.tokens.map((token) => new ControlPlaneLink(cp.url, token, 'agent-bom-gateway')) : [];
  }

  /** Boot: overlay, discovery (prints the seed's line per key), policy, limiter, audit, auth. Throws on bad config. */
  async start(): Promise<void> {
    await this.protectControlPlaneAddresses();
    if (this.config.upstreamsFile) this.overlay = await loadOverlay(this.config.upstreamsFile, this.env);
    for (const link of this.links) {
      let answer: DiscoveryAnswer;
      try {
        answer = await link.discover();
      } catch (error) {
        throw new Error(
          `cannot read discovery from ${this.config.controlPlane!.display}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      await this.checkKeyRole(link, answer.tenant_id);
      if (this.tenants.has(answer.tenant_id))
        throw new ConfigError(`two --control-plane-token values are keys of tenant ${answer.tenant_id}`);
      const names = [...new Set(answer.upstreams.map((u) => u.name))].sort();
      const scope = this.links.length > 1 ? ` for tenant ${answer.tenant_id}` : '';
      this.print(
        `discovered ${answer.upstreams.length} upstream(s) from ${this.config.controlPlane!.display}${scope}: ${names.join(', ') || '(none)'}`,
      );
      this.tenants.set(answer.tenant_id, this.tenantState(answer.tenant_id, link, answer.upstreams));
    }
    if (this.links.length) this.primaryTenant = this.links[0].tenant!;
    else this.tenants.set(DEFAULT_TENANT, this.tenantState(DEFAULT_TENANT, undefined, []));
    for (const entry of this.overlay) {
      if (entry.tenant && !this.tenants.has(entry.tenant)) {
        throw new ConfigError(
          `--upstreams: "${entry.name}" names tenant ${entry.tenant}, which no --control-plane-token serves`,
        );
      }
    }
    this.rebuildRegistry();

    if (this.config.policyFile) {
      try {
        this.filePolicy = new FilePolicy(
          this.config.policyFile,
          this.logger,
          (policy) => this.policyLoaded(undefined, policy),
          this.print,
        );
      } catch (error) {
        throw new ConfigError(`--policy ${this.config.policyFile}: ${(error as Error).message}`);
      }
      this.filePolicy.watch();
      this.policyLoaded(undefined, this.filePolicy.current);
    }
    if (this.config.policyBundle) {
      for (const state of this.tenants.values()) {
        if (!state.link) continue;
        state.bundle = new BundlePolicy(state.link, this.logger, (policy) =>
          this.policyLoaded(state.tenant, policy),
        );
        await state.bundle.refresh(); // a bundle that is served but does not verify stops the start (fail closed)
        state.bundle.start(this.config.policyRefreshMs);
      }
    }

    const rl = this.config.rateLimit;
    if (rl.perTenant || rl.perTool) {
      if (rl.backend === 'postgres') {
        const limiter = new PostgresRateLimiter(rl.databaseUrl!);
        try {
          await limiter.init();
        } catch (error) {
          await limiter.close().catch(() => undefined);
          throw new Error(`cannot use the PostgreSQL rate limiter: ${(error as Error).message}`, {
            cause: error,
          });
        }
        this.limiter = limiter;
      } else this.limiter = new MemoryRateLimiter();
    }

    this.authenticator = new Authenticator(
      {
        bearerToken: this.config.bearerToken,
        defaultTenant: this.primaryTenant,
        required: Boolean(this.config.bearerToken || this.links.length),
        links: this.links,
        positiveTtlMs: this.config.introspectionTtlMs,
        negativeTtlMs: this.config.introspectionNegativeTtlMs,
      },
      this.logger,
    );
    for (const state of this.tenants.values()) state.audit.start();
    if (this.links.length) {
      this.refreshTimer = setInterval(() => void this.refreshDiscovery(), this.config.discoveryRefreshMs);
      this.refreshTimer.unref();
    }
  }

  /**
   * A gateway key must be able to do everything the gateway does for its tenant; a key of another role would
   * start, then answer every client 503 ("cannot confirm the key"). Refuse at start and name the role needed.
   */
  private async checkKeyRole(link: ControlPlaneLink, tenant: string): Promise<void> {
    let me: MeView;
    try {
      me = await link.whoAmI();
    } catch (error) {
      throw new Error(
        `cannot read the control-plane token's role from ${this.config.controlPlane!.display}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const missing = GATEWAY_KEY_PERMISSIONS.filter((p) => !isRole(me.role) || !roleHasPermission(me.role, p));
    if (missing.length) {
      throw new ConfigError(
        `the --control-plane-token for tenant ${tenant} is a "${me.role}" key; the gateway needs a "gateway" key ` +
          `(missing ${missing.join(', ')}): create one with \`agent-bom keys create --tenant ${tenant} --role gateway\``,
      );
    }
  }

  /** The control plane's resolved addresses stay refused to upstream traffic, whatever the allow-list says. */
  private async protectControlPlaneAddresses(): Promise<void> {
    if (!this.config.controlPlane) return;
    const url = new URL(this.config.controlPlane.url);
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const addresses = await dns.lookup(url.hostname.replace(/^\[|\]$/g, ''), { all: true }).catch(() => []);
    for (const { address } of addresses) this.egress.protect({ host: address, port });
  }

  /** The third startup line: what is known but not fronted, and why; undefined when everything is fronted. */
  notFrontedLine(): string | undefined {
    if (!this.notFronted.length) return undefined;
    const several = this.tenants.size > 1;
    const names = this.notFronted.map((u) => `${several ? `${u.tenant}/` : ''}${u.name} (${u.why})`);
    return `not fronting ${names.length} upstream(s): ${names.join(', ')}`;
  }

  /** Names for the `fronting …` line: bare names for one tenant, `tenant/name` for several. */
  frontedNames(): string[] {
    const all = this.registry.all();
    return this.tenants.size > 1 ? all.map((u) => `${u.tenant}/${u.name}`) : all.map((u) => u.name);
  }

  relayDeps(): RelayDeps {
    return {
      config: this.config,
      registry: this.registry,
      authenticator: this.authenticator,
      limiter: this.limiter,
      policies: (tenant) => this.policies(tenant),
      audit: (tenant, event) => this.audit(tenant, event),
      upstreams: this.upstreams,
      sessions: this.sessionIds,
      metrics: this.metrics,
      logger: this.logger,
    };
  }

  policies(tenant: string): LoadedPolicy[] {
    const out: LoadedPolicy[] = [];
    if (this.filePolicy) out.push(this.filePolicy.current);
    const bundle = this.tenants.get(tenant)?.bundle?.current;
    if (bundle) out.push(bundle);
    return out;
  }

  audit(tenant: string, event: GatewayAuditEvent): void {
    // The sink cleans the event once (secrets redacted like the ledger's) before it is written, logged or queued.
    this.tenants.get(tenant)?.audit.record(event);
  }

  /**
   * The seed's `/healthz` body. It is unauthenticated, so it never names one tenant's upstreams (or tenant ids)
   * to a caller outside that tenant: a caller with a valid credential sees its own tenant's upstreams; an
   * anonymous caller sees them only when this gateway serves a single tenant.
   */
  health(viewer?: string) {
    const visible = viewer ?? (this.tenants.size === 1 ? [...this.tenants.keys()][0] : undefined);
    const policies = [
      this.filePolicy?.current,
      ...[...this.tenants.values()].map((t) => t.bundle?.current),
    ].filter((p): p is LoadedPolicy => Boolean(p));
    const rl = this.config.rateLimit;
    return {
      status: 'ok',
      upstreams: [
        ...new Set(
          this.registry
            .all()
            .filter((u) => u.tenant === visible)
            .map((u) => u.name),
        ),
      ].sort(),
      auth: {
        incoming_token_required: this.authenticator.required,
        methods: [
          ...(this.config.bearerToken ? ['bearer_token'] : []),
          ...(this.links.length ? ['api_key'] : []),
        ],
      },
      rate_limit: {
        backend: this.limiter ? this.limiter.backend : 'disabled',
        limit: rl.perTenant?.text ?? null,
        per_tool_limit: rl.perTool?.text ?? null,
        shared_across_replicas: this.limiter?.backend === 'postgres',
      },
      policy: {
        source: policies.length ? [...new Set(policies.map((p) => p.source))].join(' + ') : null,
        version: policies.length ? policies.map((p) => p.version).join(' + ') : null,
        file: this.filePolicy
          ? {
              path: this.filePolicy.path,
              version: this.filePolicy.current.version,
              loaded_at: this.filePolicy.current.loadedAt,
              last_error: this.filePolicy.lastError,
            }
          : null,
        bundle: this.config.policyBundle
          ? [...this.tenants.values()]
              .filter((t) => t.bundle && (visible === undefined || t.tenant === visible))
              .map((t) => ({
                ...(visible === undefined ? {} : { tenant: t.tenant }),
                version: t.bundle!.current?.version ?? null,
                available: t.bundle!.available,
                last_error: t.bundle!.lastError,
              }))
          : null,
      },
      control_plane: this.links.length
        ? {
            configured: true,
            reachable: this.links.every((l) => l.reachable),
            url: this.config.controlPlane!.display,
          }
        : { configured: false, reachable: false },
    };
  }

  refreshGauges(): void {
    let pending = 0;
    let dropped = 0;
    let conflicts = 0;
    for (const state of this.tenants.values()) {
      pending += state.audit.pending;
      dropped += state.audit.dropped;
      conflicts += state.audit.conflicts;
    }
    this.metrics.auditConflicts.set(conflicts);
    this.metrics.auditPending.set(pending);
    this.metrics.auditDropped.set(dropped);
  }

  /** Re-reads discovery for every tenant; logs each upstream added, removed or re-pointed. */
  async refreshDiscovery(): Promise<void> {
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
    this.rebuildRegistry();
  }

  private rebuildRegistry(): void {
    const upstreams: Upstream[] = [];
    const notFronted: GatewayRuntime['notFronted'] = [];
    for (const state of this.tenants.values()) {
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
        const why = this.approvalProblem(found.approval);
        if (why) {
          skipped.set(found.name, why);
          continue;
        }
        const refusal = this.egressProblem(url);
        if (refusal) {
          skipped.set(found.name, refusal);
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
      for (const entry of this.overlay) {
        if ((entry.tenant ?? this.primaryTenant) !== state.tenant) continue;
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
    this.notFronted = notFronted.sort((a, b) =>
      `${a.tenant}/${a.name}`.localeCompare(`${b.tenant}/${b.name}`),
    );
    const changes = this.registry.replace(upstreams);
    if (this.refreshTimer) {
      for (const change of changes) {
        this.logger.info(
          { tenant: change.tenant, upstream: change.name, change: change.change },
          `upstream ${change.change}`,
        );
        this.print(
          `upstream ${change.change}: ${this.tenants.size > 1 ? `${change.tenant}/` : ''}${change.name}`,
        );
      }
    }
  }

  /** Discovered upstreams are routed only once approved in the control plane. */
  private approvalProblem(approval: DiscoveredUpstream['approval']): string | undefined {
    if (approval === 'approved') return undefined;
    if (approval === 'pending') return 'pending approval';
    if (approval === 'blocked') return 'blocked';
    // Fail closed: an answer without the field (a control plane from before approval) proves no admin approved it.
    return 'approval unknown (control plane reports none)';
  }

  private egressProblem(url: URL): string | undefined {
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const refusal = this.egress.checkLiteral(url.hostname, port);
    return refusal ? `refused by egress: ${refusal.address} ${refusal.reason}` : undefined;
  }

  private tenantState(
    tenant: string,
    link: ControlPlaneLink | undefined,
    discovered: DiscoveryAnswer['upstreams'],
  ): TenantState {
    const audit = new AuditSink(
      tenant,
      link,
      { ...this.auditIdentity, maxEvents: this.config.auditBufferEvents, flushMs: this.config.auditFlushMs },
      this.logger,
      this.auditFile,
    );
    return { tenant, link, audit, discovered };
  }

  private policyLoaded(tenant: string | undefined, policy: LoadedPolicy): void {
    const targets = tenant ? [tenant] : [...this.tenants.keys()];
    for (const t of targets) {
      this.audit(t, {
        type: 'policy.loaded',
        policy_version: `${policy.source}@${policy.version}`,
        reason: `gateway policy loaded from ${policy.source}`,
      });
    }
  }

  async close(): Promise<void> {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.filePolicy?.close();
    this.statefulSessions.closeAll();
    for (const state of this.tenants.values()) state.bundle?.close();
    await Promise.all([...this.tenants.values()].map((state) => state.audit.close()));
    this.auditFile?.close();
    await this.limiter?.close().catch(() => undefined);
    await this.upstreams.close();
  }
}
