import { describe, expect, it } from '@jest/globals';
import { ReplayGuard, type DeferredPayload } from './replay.js';
import {
  declaredToolStep,
  messagePayload,
  replayPayload,
  replayStep,
  withoutDriftedTools,
} from './session-steps.js';
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

describe('deferred replay payloads', () => {
  /** A payload that counts how often its fingerprint is asked for. */
  const counted = (value: string) => {
    const payload = { asked: 0, retained: false } as DeferredPayload & { asked: number; retained: boolean };
    payload.fingerprint = () => {
      payload.asked++;
      return value;
    };
    payload.retain = () => {
      payload.retained = true;
    };
    return payload;
  };

  it('computes no fingerprint while every id is new, and one per payload once an id comes again', () => {
    const guard = new ReplayGuard(60_000, 100);
    const payloads = Array.from({ length: 50 }, (_, i) => counted(`P${i}`));
    payloads.forEach((payload, i) => {
      expect(guard.isReplay(`n:${i}`, payload)).toBe(false);
      guard.remember(`n:${i}`, payload);
    });
    expect(payloads.every((p) => p.asked === 0 && p.retained)).toBe(true);
    const again = counted('P7');
    expect(guard.isReplay('n:7', again)).toBe(true);
    expect(guard.isReplay('n:7', counted('other'))).toBe(false);
    expect(payloads[7].asked).toBe(1);
    expect(again.asked).toBe(1);
    expect(payloads.filter((p) => p.asked > 0)).toHaveLength(1);
  });

  it('treats a deferred and a computed payload with one fingerprint as the same call, kept once', () => {
    let now = 0;
    const guard = new ReplayGuard(1000, 10, () => now);
    guard.remember('n:1', counted('A'));
    now = 500;
    expect(guard.isReplay('n:1', 'A')).toBe(true);
    guard.remember('n:1', 'A');
    expect(guard.size).toBe(1);
    now = 1200;
    expect(guard.isReplay('n:1', 'A')).toBe(true);
    now = 1500;
    expect(guard.isReplay('n:1', 'A')).toBe(false);
    expect(guard.size).toBe(0);
  });

  it('stays bounded and quick when one id is reused with ever new payloads', () => {
    const guard = new ReplayGuard(60_000, 100);
    const call = (i: number) => {
      const params = { name: 't', arguments: { i } };
      return messagePayload(
        'tools/call',
        params,
        JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params }),
      );
    };
    const started = performance.now();
    let replays = 0;
    for (let i = 0; i < 20_000; i++) {
      const payload = call(i);
      if (guard.isReplay('n:1', payload)) replays++;
      guard.remember('n:1', payload);
    }
    expect(replays).toBe(0);
    expect(guard.size).toBe(100);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(guard.isReplay('n:1', call(19_999))).toBe(true);
    expect(guard.isReplay('n:1', call(19_900))).toBe(true);
    expect(guard.isReplay('n:1', call(19_899))).toBe(false);
  });

  it('gives the fingerprint replayPayload gives, before and after the guard keeps only the text', () => {
    const messages = [
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"b":1,"a":[1.50,"\\u00e9"]}}}',
      '{"method":"tools/call","params":{"arguments":{"a":[1.5,"é"],"b":1},"_meta":{"traceparent":"00-a"},"name":"x"},"id":1,"jsonrpc":"2.0"}',
      '{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"file:///\\ud800"}}',
      '{"jsonrpc":"2.0","id":3,"method":"prompts/get"}',
    ];
    const fingerprints = messages.map((text) => {
      const { method, params } = JSON.parse(text) as { method: string; params?: unknown };
      const eager = replayPayload(method, params, text);
      const now = messagePayload(method, params, text) as DeferredPayload;
      const later = messagePayload(method, params, text) as DeferredPayload;
      later.retain();
      expect([now.fingerprint(), later.fingerprint()]).toEqual([eager, eager]);
      return eager;
    });
    // Key order, number spelling, escapes and _meta do not make another call; a lone surrogate is digested raw.
    expect(fingerprints[0]).toBe(fingerprints[1]);
    expect(fingerprints[2]).toMatch(/^sha256:/);
    expect(messagePayload('ping', {}, '{}')).toBe('');
    const long = JSON.stringify({
      method: 'tools/call',
      params: { name: 'x', arguments: { s: 'y'.repeat(600) } },
    });
    expect(typeof messagePayload('tools/call', JSON.parse(long).params, long)).toBe('string');
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
