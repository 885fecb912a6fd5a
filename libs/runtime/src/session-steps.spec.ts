import { describe, expect, it } from '@jest/globals';
import { ReplayGuard } from './replay.js';
import { declaredToolStep, replayPayload, replayStep, withoutDriftedTools } from './session-steps.js';
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

  it('times a key remembered again from its last remember, and forgets it last', () => {
    let now = 0;
    const guard = new ReplayGuard(1000, 3, () => now);
    guard.remember('n:1', 'A');
    now = 500;
    guard.remember('n:2', 'A');
    guard.remember('n:1', 'A');
    now = 1200;
    expect(guard.isReplay('n:1', 'A')).toBe(true);
    expect(guard.isReplay('n:2', 'A')).toBe(true);
    guard.remember('n:3', 'A');
    guard.remember('n:4', 'A');
    expect(guard.size).toBe(3);
    expect(guard.isReplay('n:2', 'A')).toBe(false);
    expect(guard.isReplay('n:1', 'A')).toBe(true);
    now = 1500;
    expect(guard.isReplay('n:1', 'A')).toBe(false);
    expect(guard.isReplay('n:4', 'A')).toBe(true);
  });

  it('keeps its live entries when one key is remembered again and again, and stays bounded past its capacity', () => {
    let now = 0;
    const guard = new ReplayGuard(60_000, 4, () => now);
    guard.remember('n:0', 'A');
    for (let i = 0; i < 50; i++) guard.remember('n:1', 'A');
    guard.remember('n:2', 'A');
    expect(guard.size).toBe(3);
    for (const id of ['n:0', 'n:1', 'n:2']) expect(guard.isReplay(id, 'A')).toBe(true);
    let largest = 0;
    for (let i = 0; i < 5_000; i++) {
      now++;
      guard.remember(`n:${i + 10}`, 'A');
      largest = Math.max(largest, guard.size);
    }
    expect(largest).toBe(4);
    expect(guard.isReplay('n:5009', 'A')).toBe(true);
    expect(guard.isReplay('n:5005', 'A')).toBe(false);
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

describe('session steps', () => {
  const tool = (name: string, description = 'd') => ({ name, description, inputSchema: { type: 'object' } });

  it('refuses a replayed call even after a flood of exempt requests, which are never remembered', () => {
    const guard = new ReplayGuard(60_000, 100);
    const call = replayPayload('tools/call', { name: 'write_file', arguments: { p: 1 } }, '');
    expect(replayStep(guard, 'n:1', call)).toBeUndefined();
    guard.remember('n:1', call);
    for (let i = 0; i < 10_001; i++) {
      const ping = replayPayload('ping', {}, '');
      expect(ping).toBe('');
      expect(replayStep(guard, `n:${i + 2}`, ping)).toBeUndefined();
    }
    expect(guard.size).toBe(1);
    expect(replayStep(guard, 'n:1', call)?.code).toBe('replay');
  });

  it('keys a call by method and params without _meta', () => {
    const a = replayPayload('tools/call', { name: 'x', _meta: { traceparent: '00-a' } }, '');
    const b = replayPayload('tools/call', { name: 'x', _meta: { traceparent: '00-b' } }, '');
    expect(a).toBe(b);
    expect(replayPayload('tools/call', { name: 'y' }, '')).not.toBe(a);
    expect(replayPayload('tools/list', {}, '')).toBe('');
  });

  it('refuses undeclared tools and, with --block-drift, drifted ones; withholds drifted tools from a listing', () => {
    const registry = new ToolRegistry();
    registry.observe([tool('a'), tool('b')], true, true);
    const both = { blockUndeclared: true, blockDrift: true };
    expect(declaredToolStep(both, registry, 'a')).toBeUndefined();
    expect(declaredToolStep(both, registry, 'zz')?.code).toBe('undeclared_tool');
    expect(declaredToolStep({ blockUndeclared: false, blockDrift: true }, registry, 'zz')).toBeUndefined();
    registry.observe([tool('a', 'changed'), tool('b'), tool('c')], true, true);
    expect(declaredToolStep(both, registry, 'a')?.code).toBe('tool_drift');
    expect(declaredToolStep(both, registry, 'c')?.message).toBe(
      'tool "c" was added after the first tools/list; calls to it are blocked',
    );
    expect(declaredToolStep({ blockUndeclared: true, blockDrift: false }, registry, 'a')).toBeUndefined();
    expect(withoutDriftedTools([tool('a'), tool('b'), tool('c')], registry)).toEqual([tool('b')]);
    expect(withoutDriftedTools([tool('b')], registry)).toBeUndefined();
  });
});
