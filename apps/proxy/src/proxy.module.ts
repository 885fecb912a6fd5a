import { Module, type DynamicModule } from '@nestjs/common';
import { AuditSink } from './audit/audit-sink.js';
import type { ChildServer } from './child.js';
import type { ProxyConfig } from './config.js';
import { ProxyLogger } from './logger.js';
import { RateLimiter } from './pipeline/rate-limit.js';
import { RequestPipeline } from './pipeline/request.js';
import { ResponsePipeline } from './pipeline/response.js';
import { Session } from './pipeline/session.js';
import { PolicySet } from './policy/policy-set.js';
import { Relay, type RelayIo } from './relay.js';
import { ProxyRunner } from './runner.js';
import type { Prepared } from './startup.js';
import { BUNDLE_SYNC, PROXY_CONFIG, RELAY_IO } from './tokens.js';
import { ReplayGuard, ToolRegistry } from '../../../libs/runtime/src/index.js';

export interface ProxyModuleOptions {
  readonly config: ProxyConfig;
  readonly logger: ProxyLogger;
  readonly child: ChildServer;
  readonly io: RelayIo;
  readonly prepared: Prepared;
  /** Told when the relay has installed its own signal handlers. */
  readonly onRelayStart?: () => void;
}

/**
 * The proxy as a Nest standalone application (no HTTP server). The pipeline classes are plain TypeScript,
 * wired here with factories so they stay testable on their own; the values prepared before Nest loaded (config,
 * logger, verified policy, the spawned server) come in as providers.
 */
@Module({})
export class ProxyModule {
  static forRoot(options: ProxyModuleOptions): DynamicModule {
    const { config, logger, child, io, prepared } = options;
    return {
      module: ProxyModule,
      providers: [
        { provide: PROXY_CONFIG, useValue: config },
        { provide: RELAY_IO, useValue: io },
        { provide: BUNDLE_SYNC, useValue: prepared.sync ?? null },
        { provide: ProxyLogger, useValue: logger },
        { provide: PolicySet, useValue: prepared.policies },
        { provide: Session, useFactory: () => new Session() },
        { provide: ToolRegistry, useFactory: () => new ToolRegistry() },
        { provide: ReplayGuard, useFactory: () => new ReplayGuard(config.replayWindowMs) },
        { provide: RateLimiter, useFactory: () => new RateLimiter(config.rateLimitPerMinute) },
        {
          provide: AuditSink,
          useFactory: () =>
            new AuditSink(
              logger,
              {
                ...prepared.identity,
                flushMs: config.auditFlushMs,
                maxBackoffMs: config.auditBackoffMaxMs,
              },
              prepared.client,
              prepared.spool,
              prepared.auditFile,
            ),
        },
        {
          provide: RequestPipeline,
          inject: [AuditSink, PolicySet, ToolRegistry, ReplayGuard, RateLimiter, Session],
          useFactory: (
            audit: AuditSink,
            policies: PolicySet,
            tools: ToolRegistry,
            replay: ReplayGuard,
            limiter: RateLimiter,
            session: Session,
          ) => new RequestPipeline(config, logger, audit, policies, tools, replay, limiter, session),
        },
        {
          provide: ResponsePipeline,
          inject: [AuditSink, ToolRegistry, Session],
          useFactory: (audit: AuditSink, tools: ToolRegistry, session: Session) =>
            new ResponsePipeline(config, logger, audit, tools, session, prepared.previousTools, () =>
              prepared.policies.loaded.some((p) =>
                p.policy.document.rules.some((r) => r.secret_paths === true),
              ),
            ),
        },
        {
          provide: Relay,
          inject: [Session, RequestPipeline, ResponsePipeline],
          useFactory: (session: Session, requests: RequestPipeline, responses: ResponsePipeline) =>
            new Relay(config, logger, session, requests, responses, child, io, options.onRelayStart),
        },
        ProxyRunner,
      ],
    };
  }
}
