import { describe, expect, it } from '@jest/globals';
import { compileSnapshot } from '../../../../libs/runtime/src/index.js';
import type { GatewayAuditEvent } from '../audit/audit-sink.js';
import { GatewayMetrics } from '../http/metrics.js';
import { MemoryRateLimiter } from '../rate-limit/memory-rate-limiter.js';
import { fromSnapshot, type LoadedPolicy } from '../policy/loaded-policy.js';
import type { Upstream } from '../upstreams/upstream.js';
import { admit, type AdmissionDeps, type Admitted } from './admission.js';
import { settleFromJson } from './call-outcome.js';
import { parseClientMessage } from './jsonrpc.js';

const metrics = new GatewayMetrics();
const principal = { tenant: 't1', subject: 'bearer-token', id: 'bearer', method: 'bearer' as const };
const upstream = (transport: Upstream['transport']) =>
  ({ tenant: 't1', name: 'up', transport, url: new URL('http://127.0.0.1:1/mcp') }) as unknown as Upstream;
const call = (args: Record<string, unknown>) =>
  Buffer.from(
    JSON.stringify({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'echo', arguments: args },
    }),
  );

async function admitted(
  keepsAllowedCalls: boolean | undefined,
  args: Record<string, unknown> = { message: 'hello' },
  transport: Upstream['transport'] = 'streamable-http',
  policies: LoadedPolicy[] = [],
) {
  const events: GatewayAuditEvent[] = [];
  const deps: AdmissionDeps = {
    policies: () => policies,
    audit: (_tenant, event) => events.push(event),
    metrics,
    argumentDetectors: 'warn',
    ...(keepsAllowedCalls === undefined ? {} : { keepsAllowedCalls: () => keepsAllowedCalls }),
  };
  const verdict = await admit(deps, principal, upstream(transport), {}, parseClientMessage(call(args)));
  expect(verdict.ok).toBe(true);
  return { verdict: verdict as Admitted, events };
}

describe('an allowed call nobody takes (no audit file, no control plane)', () => {
  it('is counted as admitted: no call record held, so no fingerprint and no parse of the answer', async () => {
    const { verdict, events } = await admitted(false);
    expect(verdict.call).toBeUndefined();
    // Counted (the sink counts a plain allowed call it does not keep) without an argument fingerprint.
    expect(events).toEqual([expect.objectContaining({ type: 'tool_call.allowed', tool: 'echo' })]);
    expect(events[0].argument_fingerprint).toBeUndefined();
    // Nothing is left to settle from the answer, not even one that is not JSON.
    settleFromJson(verdict.call, 'not json');
    expect(events).toHaveLength(1);
  });

  it('when kept (or not known to be dropped), has its fingerprint and its outcome from the answer', async () => {
    for (const keeps of [true, undefined]) {
      const { verdict, events } = await admitted(keeps);
      expect(events).toEqual([]); // recorded when the answer is in, with its outcome
      expect(verdict.call?.fields.argument_fingerprint).toMatch(/\S/);
      settleFromJson(verdict.call, '{"jsonrpc":"2.0","id":7,"error":{"code":-32602}}');
      expect(events).toEqual([
        expect.objectContaining({
          type: 'tool_call.allowed',
          outcome: 'error',
          error_class: 'jsonrpc_-32602',
        }),
      ]);
      const broken = await admitted(keeps);
      settleFromJson(broken.verdict.call, 'not json');
      expect(broken.events[0]).toMatchObject({ outcome: 'upstream_failed', error_class: 'invalid_json' });
    }
  });

  it('a warned call (logged) and a call to a legacy SSE upstream keep their fingerprint and outcome', async () => {
    const warned = await admitted(false, { key: 'AKIAIOSFODNN7EXAMPLE' });
    expect(warned.verdict.call?.fields.type).toBe('tool_call.warned');
    expect(warned.events).toEqual([]);
    expect(warned.verdict.call?.fields.argument_fingerprint).toMatch(/\S/);

    const bridged = await admitted(false, { message: 'hello' }, 'sse');
    expect(bridged.events).toEqual([]);
    expect(bridged.verdict.call?.fields.argument_fingerprint).toMatch(/\S/);
  });
});

describe('a call under a policy', () => {
  it('names the policy source@version, one string per loaded policy (not spelled per call)', async () => {
    const document = {
      version: 1,
      default_effect: 'deny',
      rules: [{ id: 'allow-echo', effect: 'allow', tools: ['echo'] }],
    };
    const policy = fromSnapshot(compileSnapshot(document, 'sha256:0123456789abcdef'), 'file', 'file:/p.json');
    expect(policy.auditVersion).toBe('file:/p.json@sha256:0123456789abcdef');
    const { verdict } = await admitted(true, { message: 'hello' }, 'streamable-http', [policy]);
    expect(verdict.call?.fields).toMatchObject({
      rule_id: 'allow-echo',
      policy_version: 'file:/p.json@sha256:0123456789abcdef',
    });
  });
});

describe('a verdict with no step that waits', () => {
  const deps = (limiter?: AdmissionDeps['limiter']): AdmissionDeps => ({
    policies: () => [],
    audit: () => undefined,
    metrics,
    argumentDetectors: 'warn',
    limiter,
    perTenant: limiter ? { limit: 1, windowMs: 60_000, text: '1/min' } : undefined,
  });
  const admitCall = (d: AdmissionDeps) =>
    admit(d, principal, upstream('streamable-http'), {}, parseClientMessage(call({ message: 'hello' })));

  it('is given synchronously (no promise, no microtask turn), with the trace context in the forwarded call', () => {
    const verdict = admitCall(deps());
    expect(verdict).not.toBeInstanceOf(Promise);
    expect((verdict as Admitted).ok).toBe(true);
    const forwarded = (verdict as Admitted).message;
    expect(forwarded.kind === 'request' && forwarded.text).toContain('traceparent');
  });

  it('waits for the rate limits when there are any: allowed, then refused past the limit', async () => {
    const d = deps(new MemoryRateLimiter(() => 1_000));
    const first = admitCall(d);
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toMatchObject({ ok: true, rate: { limit: 1, remaining: 0 } });
    expect(await admitCall(d)).toMatchObject({ ok: false, status: 429 });
  });
});
