import { describe, expect, it, jest } from '@jest/globals';
import pino from 'pino';
import type { GatewayAuditEvent } from './audit-sink.js';
import { TokenRefusals } from './token-refusals.js';

describe('TokenRefusals', () => {
  const setup = (perMinute: number) => {
    let now = 1_000_000;
    const ledgers = new Map<string, GatewayAuditEvent[]>([['tenant-a', []]]);
    const refusals = new TokenRefusals(
      {
        perMinute,
        sinkOf: (tenant) => {
          const events = ledgers.get(tenant);
          return events && { record: (event: GatewayAuditEvent) => void events.push(event) };
        },
        now: () => now,
      },
      pino({ level: 'silent' }),
    );
    return { refusals, ledgers, advance: (ms: number) => (now += ms) };
  };

  it('records a served tenant’s refusals in its ledger, and none of another tenant or of no tenant', () => {
    const { refusals, ledgers } = setup(10);
    refusals.refused({ reason: 'expired', tenant: 'tenant-a', issuer: 'https://idp.example' });
    refusals.refused({ reason: 'tenant_not_bound', tenant: 'tenant-z' });
    refusals.refused({ reason: 'unknown_issuer' });
    expect(ledgers.get('tenant-a')).toEqual([
      {
        type: 'request.refused',
        decision: 'deny',
        reason: 'access token refused: expired',
        agent: undefined,
      },
    ]);
  });

  it('caps a tenant at perMinute and records the rest as one summary with their count', () => {
    const { refusals, ledgers, advance } = setup(3);
    for (let i = 0; i < 10; i++) refusals.refused({ reason: 'bad_signature', tenant: 'tenant-a' });
    expect(ledgers.get('tenant-a')).toHaveLength(3);
    advance(60_000);
    refusals.refused({ reason: 'expired', tenant: 'tenant-a' }); // a new window: the summary first
    const events = ledgers.get('tenant-a')!;
    expect(events).toHaveLength(5);
    expect(events[3]).toMatchObject({ type: 'request.refused', decision: 'deny', count: 7 });
    expect(events[4].reason).toBe('access token refused: expired');
  });

  it('writes the summary when the minute ends, without waiting for another refusal', () => {
    jest.useFakeTimers();
    try {
      const { refusals, ledgers } = setup(1);
      for (let i = 0; i < 4; i++) refusals.refused({ reason: 'expired', tenant: 'tenant-a' });
      jest.advanceTimersByTime(59_999);
      expect(ledgers.get('tenant-a')).toHaveLength(1);
      jest.advanceTimersByTime(1);
      expect(ledgers.get('tenant-a')!.map((e) => e.count)).toEqual([undefined, 3]);
      refusals.close();
      expect(ledgers.get('tenant-a')).toHaveLength(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('close() writes a pending summary', () => {
    const { refusals, ledgers } = setup(1);
    refusals.refused({ reason: 'expired', tenant: 'tenant-a' });
    refusals.refused({ reason: 'expired', tenant: 'tenant-a' });
    refusals.close();
    expect(ledgers.get('tenant-a')!.map((e) => e.count)).toEqual([undefined, 1]);
  });
});
