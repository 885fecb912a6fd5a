import { describe, expect, it } from '@jest/globals';
import { RateLimiter } from './rate-limit.js';
import { ReplayGuard } from './replay.js';
import { ToolRegistry } from './tools.js';

describe('ReplayGuard', () => {
  it('refuses the same id and payload inside the window, not after it, not with another payload', () => {
    let now = 0;
    const guard = new ReplayGuard(1000, 100, () => now);
    guard.remember('n:1', 'A');
    expect(guard.isReplay('n:1', 'A')).toBe(true);
    expect(guard.isReplay('n:1', 'B')).toBe(false);
    expect(guard.isReplay('s:1', 'A')).toBe(false);
    now = 1000;
    expect(guard.isReplay('n:1', 'A')).toBe(false);
  });

  it('is bounded, and off with a zero window', () => {
    const guard = new ReplayGuard(60_000, 3);
    for (let i = 0; i < 10; i++) guard.remember(`n:${i}`, 'A');
    expect(guard.size).toBe(3);
    expect(guard.isReplay('n:0', 'A')).toBe(false);
    expect(guard.isReplay('n:9', 'A')).toBe(true);
    const off = new ReplayGuard(0);
    off.remember('n:1', 'A');
    expect(off.isReplay('n:1', 'A')).toBe(false);
  });
});

describe('RateLimiter', () => {
  it('allows N per window per tool and says how long to wait', () => {
    let now = 0;
    const limiter = new RateLimiter(2, 60_000, 10, () => now);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('b')).toBe(0);
    now = 10_000;
    expect(limiter.take('a')).toBe(50_000);
    now = 60_000;
    expect(limiter.take('a')).toBe(0);
  });
});

describe('ToolRegistry', () => {
  const tool = (name: string, description = 'd') => ({ name, description, inputSchema: { type: 'object' } });

  it('baselines the first complete listing (all pages), then reports changes, additions and removals', () => {
    const registry = new ToolRegistry();
    expect(registry.observe([tool('a')], true, false)).toEqual([]);
    expect(registry.listed).toBe(false);
    expect(registry.observe([tool('b')], false, true)).toEqual([]);
    expect(registry.listed).toBe(true);
    expect(registry.has('a') && registry.has('b')).toBe(true);

    const changes = registry.observe([tool('a', 'now do something else'), tool('c')], true, true);
    expect(changes.map((c) => `${c.tool}:${c.kind}`).sort()).toEqual(['a:changed', 'b:removed', 'c:added']);
    expect(changes.find((c) => c.tool === 'a')!.previous).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(registry.driftOf('a')).toBe('changed');
    expect(registry.driftOf('c')).toBe('added');
    expect(registry.has('b')).toBe(false);
  });

  it('ignores _meta and key order', () => {
    const registry = new ToolRegistry();
    registry.observe([{ name: 'a', description: 'x', inputSchema: { type: 'object' } }], true, true);
    const changes = registry.observe(
      [{ inputSchema: { type: 'object' }, description: 'x', name: 'a', _meta: { t: 1 } }],
      true,
      true,
    );
    expect(changes).toEqual([]);
  });
});
