import { type DynamicModule, Module } from '@nestjs/common';
import { HealthController } from './http/health.controller.js';
import { GATEWAY_RUNTIME, type GatewayRuntime } from './runtime.js';

/**
 * The gateway's root module: a thin Nest HTTP app over Fastify. The runtime (registry, auth, policy, limiter,
 * audit, upstream pools) is built before Nest boots and provided as one value; the relay routes are plain
 * Fastify routes on the same server, because they stream (`reply.hijack`, piped upstream bodies) and are the
 * hot path.
 */
@Module({})
export class GatewayModule {
  static forRoot(runtime: GatewayRuntime): DynamicModule {
    return {
      module: GatewayModule,
      controllers: [HealthController],
      providers: [{ provide: GATEWAY_RUNTIME, useValue: runtime }],
    };
  }
}
