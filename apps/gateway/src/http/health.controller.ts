import { Controller, Get, Header, Inject } from '@nestjs/common';
import { GATEWAY_RUNTIME, type GatewayRuntime } from '../runtime.js';

/**
 * `GET /healthz` (the seed's validation flow: status, upstreams, incoming auth, rate-limit posture, policy,
 * control-plane reachability) and `GET /metrics` (Prometheus). Neither carries a credential or an upstream URL.
 */
@Controller()
export class HealthController {
  constructor(@Inject(GATEWAY_RUNTIME) private readonly runtime: GatewayRuntime) {}

  @Get('healthz')
  health() {
    return this.runtime.health();
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async metrics(): Promise<string> {
    this.runtime.refreshGauges();
    return this.runtime.metrics.registry.metrics();
  }
}
