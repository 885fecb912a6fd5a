import type { IncomingHttpHeaders } from 'node:http';
import { Controller, Get, Header, Headers, Inject } from '@nestjs/common';
import { GATEWAY_RUNTIME, type GatewayRuntime } from '../runtime.js';

/**
 * `GET /healthz` (the seed's validation flow: status, upstreams, incoming auth, rate-limit posture, policy,
 * control-plane reachability) and `GET /metrics` (Prometheus). Neither carries a credential or an upstream URL; neither names a tenant, nor its upstreams to another tenant.
 */
@Controller()
export class HealthController {
  constructor(@Inject(GATEWAY_RUNTIME) private readonly runtime: GatewayRuntime) {}

  @Get('healthz')
  async health(@Headers() headers: IncomingHttpHeaders) {
    if (!headers.authorization && !headers['x-api-key']) return this.runtime.health();
    const outcome = await this.runtime.authenticator.authenticate(headers);
    return this.runtime.health(outcome.ok ? outcome.principal.tenant : undefined);
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async metrics(): Promise<string> {
    this.runtime.refreshGauges();
    return this.runtime.metrics.registry.metrics();
  }
}
