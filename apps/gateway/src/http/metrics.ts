import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The gateway's Prometheus registry (one per app instance). Labels are upstream names and outcomes — never tenant ids (the endpoint is unauthenticated) and never URLs. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly relays = new Counter({
    name: 'agent_bom_gateway_requests_total',
    help: 'MCP messages by upstream and outcome (forwarded, denied, rate_limited, refused, upstream_error, response_redacted, response_blocked)',
    labelNames: ['upstream', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly toolCalls = new Counter({
    name: 'agent_bom_gateway_tool_calls_total',
    help: 'tools/call requests by upstream and policy decision',
    labelNames: ['upstream', 'decision'] as const,
    registers: [this.registry],
  });
  readonly upstreamLatency = new Histogram({
    name: 'agent_bom_gateway_upstream_response_seconds',
    help: 'Time from forwarding a message to the upstream answer headers',
    labelNames: ['upstream'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly auth = new Counter({
    name: 'agent_bom_gateway_auth_failures_total',
    help: 'Refused credentials by HTTP status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly auditPending = new Gauge({
    name: 'agent_bom_gateway_audit_pending_events',
    help: 'Audit events waiting for delivery to the control plane',
    registers: [this.registry],
  });
  readonly auditDropped = new Gauge({
    name: 'agent_bom_gateway_audit_dropped_events',
    help: 'Audit events dropped because the buffer was full or the control plane refused them',
    registers: [this.registry],
  });
  readonly auditConflicts = new Gauge({
    name: 'agent_bom_gateway_audit_conflicting_events',
    help: 'Audit events whose ids the control plane already held with other content (forged or replayed audit: alarm)',
    registers: [this.registry],
  });
  readonly sessions = new Gauge({
    name: 'agent_bom_gateway_stateful_sessions',
    help: 'Open stateful sessions (legacy SSE clients and SSE upstream bridges) on this replica',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'agent_bom_gateway_' });
  }
}
