import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import { AuditFile, type EgressGuard } from '../../../libs/runtime/src/index.js';
import { AuditSink, type GatewayAuditEvent } from './audit/audit-sink.js';
import { TokenRefusals } from './audit/token-refusals.js';
import { Authenticator } from './auth/authenticator.js';
import { GatewayOidc } from './auth/oidc-tokens.js';
import { ConfigError, type GatewayConfig } from './config/config.js';
import { ControlPlaneLink, type DiscoveryAnswer } from './control-plane/control-plane-link.js';
import { GatewayMetrics } from './http/metrics.js';
import { resourceMetadataUrlOf, resourceOf } from './http/protected-resource.js';
import type { LoadedPolicy } from './policy/loaded-policy.js';
import { BundlePolicy, bundleStoreFor, FilePolicy } from './policy/policy-store.js';
import type { RateLimiter } from './rate-limit/rate-limiter.js';
import { ClientSessionStates } from './relay/admission-session.js';
import type { RelayDeps } from './relay/relay-context.js';
import { SessionIds } from './relay/session-ids.js';
import { StatefulSessions } from './relay/stateful-sessions.js';
import { UpstreamClient } from './relay/upstream-client.js';
import { DiscoveryRefresher, discoverTenants } from './runtime/discovery.js';
import { createEgressGuard, protectControlPlaneAddresses } from './runtime/egress.js';
import { healthView } from './runtime/health.js';
import { createRateLimiter } from './runtime/rate-limiter.js';
import { RoutingTable } from './runtime/routing.js';
import { frontedNames, notFrontedLine } from './runtime/startup-lines.js';
import { DEFAULT_TENANT, Tenants, type TenantState } from './runtime/tenants.js';
import { loadOverlay, type OverlayEntry } from './upstreams/overlay.js';
import { UpstreamRegistry } from './upstreams/registry.js';

export const GATEWAY_RUNTIME = Symbol('GATEWAY_RUNTIME');
export { DEFAULT_TENANT } from './runtime/tenants.js';

/**
 * The gateway's wiring: builds what the HTTP app runs on and hands it out. The parts live in `runtime/`, each
 * with explicit dependencies: tenants (`tenants.ts`), boot discovery and its refresh (`discovery.ts`, key role
 * in `key-role.ts`), the routing table (`routing.ts`), the `/healthz` view (`health.ts`), the startup lines
 * (`startup-lines.ts`), egress (`egress.ts`) and the rate limiter (`rate-limiter.ts`). Audit sinks and policy
 * sources are constructed here, in `newTenant()` and `startPolicies()`. `start()` does the network work of boot.
 */
export class GatewayRuntime {
  readonly metrics = new GatewayMetrics();
  readonly registry = new UpstreamRegistry();
  readonly tenants = new Tenants();
  readonly upstreams: UpstreamClient;
  readonly sessionIds: SessionIds;
  readonly statefulSessions: StatefulSessions;
  /** The session steps' memory (replay, listed tools), per client session. */
  readonly clientSessions: ClientSessionStates;
  readonly links: readonly ControlPlaneLink[];
  readonly egress: EgressGuard;
  private readonly routing: RoutingTable;
  private readonly refresher: DiscoveryRefresher;
  private overlay: readonly OverlayEntry[] = [];
  private limiter?: RateLimiter;
  private filePolicy?: FilePolicy;
  private auth?: Authenticator;
  /** OIDC access tokens: only with a control plane (the issuers) and a public URL (the audience). */
  private oidcTokens?: GatewayOidc;
  /** Refused access tokens: logged, and audited in the ledger of the tenant they were aimed at (capped). */
  private tokenRefusals?: TokenRefusals;
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
  /** `policies(tenant)`'s answers, each with the file and bundle policies it was made of. */
  private readonly policyLists = new Map<
    string,
    { file?: LoadedPolicy; bundle?: LoadedPolicy; list: readonly LoadedPolicy[] }
  >();

  constructor(
    readonly config: GatewayConfig,
    private readonly env: NodeJS.ProcessEnv,
    readonly logger: Logger,
    private readonly print: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {
    this.egress = createEgressGuard(config);
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
    this.clientSessions = new ClientSessionStates(config);
    const cp = config.controlPlane;
    this.links = cp ? cp.tokens.map((token) => new ControlPlaneLink(cp.url, token, 'agent-bom-gateway')) : [];
    this.routing = new RoutingTable({
      registry: this.registry,
      tenants: this.tenants,
      egress: this.egress,
      overlay: () => this.overlay,
      logger,
      print: this.print,
    });
    this.refresher = new DiscoveryRefresher(this.tenants, this.routing, logger);
  }

  /** The OIDC access-token checker, when OIDC is on; built by `start()`. */
  get oidc(): GatewayOidc | undefined {
    return this.oidcTokens;
  }

  /** Incoming auth; built by `start()`. */
  get authenticator(): Authenticator {
    if (!this.auth) throw new Error('the gateway runtime is not started');
    return this.auth;
  }

  /** Boot: overlay, discovery (prints the seed's line per key), policy, limiter, audit, auth. Throws on bad config. */
  async start(): Promise<void> {
    await protectControlPlaneAddresses(this.egress, this.config);
    if (this.config.upstreamsFile) this.overlay = await loadOverlay(this.config.upstreamsFile, this.env);
    const found = await discoverTenants(this.links, this.config.controlPlane?.display ?? '', this.print);
    for (const { link, answer } of found)
      this.tenants.add(this.newTenant(answer.tenant_id, link, answer.upstreams));
    if (!found.length) this.tenants.add(this.newTenant(DEFAULT_TENANT, undefined, []));
    for (const entry of this.overlay) {
      if (entry.tenant && !this.tenants.has(entry.tenant)) {
        throw new ConfigError(
          `--upstreams: "${entry.name}" names tenant ${entry.tenant}, which no --control-plane-token serves`,
        );
      }
    }
    this.routing.rebuild(false);
    await this.startPolicies();
    this.limiter = await createRateLimiter(this.config.rateLimit);
    const publicUrl = this.config.publicUrl;
    if (this.links.length && publicUrl) {
      this.oidcTokens = new GatewayOidc(
        {
          resource: resourceOf(publicUrl),
          links: [...this.links],
          refreshMs: this.config.discoveryRefreshMs,
          scimCacheMs: this.config.scimCacheMs,
        },
        this.logger,
      );
      await this.oidcTokens.start();
      this.tokenRefusals = new TokenRefusals(
        {
          perMinute: this.config.refusalsAuditedPerMinute,
          sinkOf: (tenant) => this.tenants.get(tenant)?.audit,
          file: this.auditFile,
        },
        this.logger,
      );
    }
    this.auth = new Authenticator(
      {
        bearerToken: this.config.bearerToken,
        defaultTenant: this.tenants.primary,
        required: Boolean(this.config.bearerToken || this.links.length),
        links: [...this.links],
        positiveTtlMs: this.config.introspectionTtlMs,
        negativeTtlMs: this.config.introspectionNegativeTtlMs,
        jwt: this.oidcTokens,
        resourceMetadata: this.oidcTokens && publicUrl ? resourceMetadataUrlOf(publicUrl) : undefined,
        upstreamMetadata:
          this.oidcTokens && publicUrl ? (upstream) => resourceMetadataUrlOf(publicUrl, upstream) : undefined,
        onTokenRefused: this.tokenRefusals && ((refusal) => this.tokenRefusals?.refused(refusal)),
      },
      this.logger,
    );
    for (const state of this.tenants.values()) state.audit.start();
    if (this.links.length) this.refresher.start(this.config.discoveryRefreshMs);
  }

  /** One tenant's state; its audit sink is built here. */
  private newTenant(
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

  /** The policy sources: `--policy` (watched file) for every tenant, `--policy-bundle` per tenant key. */
  private async startPolicies(): Promise<void> {
    if (this.config.policyFile) {
      try {
        this.filePolicy = await FilePolicy.open(
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
        const store = bundleStoreFor(this.config.stateDir, state.tenant); // disk with --state-dir, else memory
        state.bundle = new BundlePolicy(state.link, state.tenant, store, this.logger, (policy) =>
          this.policyLoaded(state.tenant, policy),
        );
        // Revalidates the cache or fetches; no trusted bundle (refused, or none and no answer) stops the start.
        await state.bundle.start(this.config.policyRefreshMs);
      }
    }
  }

  /** The third startup line: what is known but not fronted, and why; undefined when everything is fronted. */
  notFrontedLine(): string | undefined {
    return notFrontedLine(this.routing.notFronted, this.tenants.several);
  }

  /** Names for the `fronting …` line: bare names for one tenant, `tenant/name` for several. */
  frontedNames(): string[] {
    return frontedNames(this.registry, this.tenants.several);
  }

  relayDeps(): RelayDeps {
    return {
      config: this.config,
      registry: this.registry,
      authenticator: this.authenticator,
      limiter: this.limiter,
      policies: (tenant) => this.policies(tenant),
      audit: (tenant, event) => this.audit(tenant, event),
      // The response scan may turn an allowed call's record into a redaction or a block, which is logged.
      keepsAllowedCalls: (tenant) =>
        this.config.detectCredentials || (this.tenants.get(tenant)?.audit.keepsAllowedCalls ?? true),
      upstreams: this.upstreams,
      sessions: this.sessionIds,
      metrics: this.metrics,
      logger: this.logger,
      clientSessions: this.clientSessions,
    };
  }

  /**
   * The policies in force for a tenant: the file's, then the tenant's bundle. The list is kept per tenant while
   * both stay the same objects (a reload or a new bundle makes a new one): it was an array per call, twice a
   * request.
   */
  policies(tenant: string): readonly LoadedPolicy[] {
    const file = this.filePolicy?.current;
    const bundle = this.tenants.get(tenant)?.bundle?.current;
    const known = this.policyLists.get(tenant);
    if (known && known.file === file && known.bundle === bundle) return known.list;
    const list: LoadedPolicy[] = [];
    if (file) list.push(file);
    if (bundle) list.push(bundle);
    Object.freeze(list);
    if (this.policyLists.size >= 10_000) this.policyLists.clear(); // served tenants only; a bound all the same
    this.policyLists.set(tenant, { file, bundle, list });
    return list;
  }

  audit(tenant: string, event: GatewayAuditEvent): void {
    // The sink cleans the event once (secrets redacted like the ledger's) before it is written, logged or queued.
    this.tenants.get(tenant)?.audit.record(event);
  }

  /** The seed's `/healthz` body (see `runtime/health.ts` for who sees which tenant's upstreams). */
  health(viewer?: string) {
    return healthView(
      {
        config: this.config,
        registry: this.registry,
        tenants: this.tenants,
        links: this.links,
        authenticator: () => this.authenticator,
        limiter: () => this.limiter,
        filePolicy: () => this.filePolicy,
        oidc: () => Boolean(this.oidcTokens),
      },
      viewer,
    );
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

  /** Re-reads discovery for every tenant now (the refresher does it every `--discovery-refresh`). */
  refreshDiscovery(): Promise<void> {
    return this.refresher.refresh();
  }

  private policyLoaded(tenant: string | undefined, policy: LoadedPolicy): void {
    const targets = tenant ? [tenant] : this.tenants.names();
    for (const t of targets) {
      this.audit(t, {
        type: 'policy.loaded',
        policy_version: policy.auditVersion,
        reason: `gateway policy loaded from ${policy.source}`,
      });
    }
  }

  async close(): Promise<void> {
    this.refresher.close();
    this.filePolicy?.close();
    this.oidcTokens?.close();
    this.tokenRefusals?.close();
    this.statefulSessions.closeAll();
    for (const state of this.tenants.values()) state.bundle?.close();
    await Promise.all([...this.tenants.values()].map((state) => state.audit.close()));
    this.auditFile?.close();
    await this.limiter?.close().catch(() => undefined);
    await this.upstreams.close();
  }
}
