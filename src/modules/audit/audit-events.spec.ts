import { describe, expect, it } from '@jest/globals';
import type { RuntimeAuditEvent } from '../../../libs/contracts/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { controlPlaneEvent, runtimeEvent } from './audit-events.js';

const principal: Principal = {
  tenantId: 'acme',
  role: 'proxy',
  subject: 'key:laptop',
  authMethod: 'api_key',
  keyId: 'k1',
};
const now = new Date('2026-03-01T12:00:00.000Z');
const base: RuntimeAuditEvent = {
  event_id: 'e1',
  type: 'tool_call.denied',
  timestamp: '2026-03-01T13:00:00+01:00',
  tool: 'rm',
};

describe('runtimeEvent', () => {
  it('normalises the time to UTC, derives the decision, and adds origin, actor, source and receipt time', () => {
    expect(runtimeEvent(principal, { source_id: 'p1', session_id: 's1' }, base, 0, now)).toEqual({
      event_id: 'e1',
      type: 'tool_call.denied',
      timestamp: '2026-03-01T12:00:00.000Z',
      received_at: '2026-03-01T12:00:00.000Z',
      origin: 'runtime',
      actor: { subject: 'key:laptop', role: 'proxy', method: 'api_key', key_id: 'k1', tenant_id: 'acme' },
      source_id: 'p1',
      session_id: 's1',
      decision: 'deny',
      tool: 'rm',
    });
  });

  it('is deterministic, so a re-sent event is recognised', () => {
    const a = runtimeEvent(principal, { source_id: 'p1' }, { ...base, reason: 'x' }, 0, now);
    const b = runtimeEvent(principal, { source_id: 'p1' }, { reason: 'x', ...base }, 0, now);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('redacts secret-looking text and lists the fields', () => {
    const event = runtimeEvent(
      principal,
      { source_id: 'p1' },
      { ...base, reason: 'saw AKIAIOSFODNN7EXAMPLE' },
      0,
      now,
    );
    expect(event.reason).toBe('saw [redacted:aws_access_key_id]');
    expect(event.redactions).toEqual(['reason']);
  });

  it.each([
    [{ timestamp: '2026-02-30T00:00:00Z' }, 'events.4.timestamp'],
    [{ timestamp: '2026-03-01T24:00:00Z' }, 'events.4.timestamp'],
    [{ timestamp: '2026-03-01T10:00:00+25:00' }, 'events.4.timestamp'],
    [{ timestamp: '1999-12-31T23:59:59Z' }, 'events.4.timestamp'],
    [{ timestamp: '2026-03-03T12:00:00Z' }, 'events.4.timestamp'],
    [{ decision: 'allow' as const }, 'events.4.decision'],
    [{ tool: undefined }, 'events.4.tool'],
  ])('refuses %j naming %s', (change, field) => {
    let error: unknown;
    try {
      runtimeEvent(principal, { source_id: 'p1' }, { ...base, ...change }, 4, now);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).message).toContain(field);
    expect((error as DomainError).details).toEqual([expect.objectContaining({ field, index: 4 })]);
  });
});

describe('controlPlaneEvent', () => {
  it('records the action with a fresh id and the principal as actor', () => {
    const event = controlPlaneEvent(
      principal,
      {
        type: 'policy.created',
        resource_type: 'policy',
        resource_id: 'p1',
        details: { version: 3, name: 'x' },
      },
      now,
    );
    expect(event).toMatchObject({
      type: 'policy.created',
      origin: 'control_plane',
      resource_id: 'p1',
      details: { version: 3, name: 'x' },
    });
    expect(event.event_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([
    [{ type: 'Policy Created' }, 'control-plane action name'],
    [{ type: 'tool_call.allowed' }, 'control-plane action name'],
    [{ type: 'api_key.created', details: { raw_key: 'x' } }, 'looks like a credential'],
    [{ type: 'api_key.created', details: { client_secret: 'x' } }, 'looks like a credential'],
    [{ type: 'x.y', details: { ratio: 0.5 } }, 'integer'],
    [
      { type: 'x.y', details: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) },
      'more than',
    ],
  ])('refuses %j', (action, message) => {
    expect(() => controlPlaneEvent(principal, action, now)).toThrow(message);
  });

  it('scrubs secret-looking detail text, as defence in depth', () => {
    const event = controlPlaneEvent(
      principal,
      { type: 'x.y', details: { note: `abom_${'Z'.repeat(43)}` } },
      now,
    );
    expect(JSON.stringify(event)).not.toContain('Z'.repeat(43));
  });
});
