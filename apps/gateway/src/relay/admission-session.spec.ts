import { describe, expect, it } from '@jest/globals';
import { ClientSessionStates } from './admission-session.js';

describe('ClientSessionStates', () => {
  const config = { blockUndeclared: true, blockDrift: false, replayWindowMs: 60_000 };

  it('keeps one state per session, checks replay only inside a session', () => {
    const states = new ClientSessionStates(config);
    const a = states.get('t\u0000up\u0000key', 'gw1.a');
    expect(states.get('t\u0000up\u0000key', 'gw1.a')).toBe(a);
    expect(states.get('t\u0000up\u0000key', 'gw1.b')).not.toBe(a);
    expect(states.get('t\u0000up\u0000other', 'gw1.a')).not.toBe(a);
    expect(a.replay.enabled).toBe(true);
    const outside = states.get('t\u0000up\u0000key', undefined);
    expect(outside.inSession).toBe(false);
    expect(outside.replay.enabled).toBe(false);
    expect(states.get('t\u0000up\u0000key', undefined)).toBe(outside);
  });

  it('is bounded by count (least recently used forgotten first) and by idle time', () => {
    let now = 0;
    const states = new ClientSessionStates(config, 3, 1000, () => now);
    const first = states.get('b', 's1');
    states.get('b', 's2');
    states.get('b', 's3');
    expect(states.get('b', 's1')).toBe(first); // used again: now the most recent
    states.get('b', 's4');
    expect(states.size).toBe(3);
    expect(states.get('b', 's1')).toBe(first);
    now = 999;
    expect(states.get('b', 's1')).toBe(first);
    now = 2000;
    const fresh = states.get('b', 's2');
    expect(states.size).toBe(1);
    expect(states.get('b', 's1')).not.toBe(first);
    expect(fresh.tools.listed).toBe(false);
  });

  it('counts a repeated use of the most recent state as a use (idle time and eviction order)', () => {
    let now = 0;
    const states = new ClientSessionStates(config, 2, 1000, () => now);
    const first = states.get('b', undefined);
    now = 900;
    expect(states.get('b', undefined)).toBe(first); // the most recent already: used again in place
    now = 1500;
    const second = states.get('b', 's1');
    expect(states.size).toBe(2); // used at 900, not idle at 1500
    expect(states.get('b', undefined)).toBe(first); // moved behind s1 again
    states.get('b', 's2');
    expect(states.get('b', undefined)).toBe(first);
    expect(states.get('b', 's1')).not.toBe(second); // s1 was the least recently used: forgotten for s2
    now = 3000;
    const third = states.get('b', 's1');
    expect(third).not.toBe(second);
    expect(states.size).toBe(1);
    now = 4001; // the most recent state itself idle: forgotten, not handed out again
    expect(states.get('b', 's1')).not.toBe(third);
    expect(states.get('b', 'S1')).not.toBe(states.get('b', 's1'));
    expect(states.get('c', 's1')).not.toBe(states.get('b', 's1'));
  });
});
