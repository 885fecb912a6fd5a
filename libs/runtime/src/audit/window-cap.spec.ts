import { describe, expect, it } from '@jest/globals';
import { WindowCap, type WindowCapOptions } from './window-cap.js';

const setup = (options: Partial<WindowCapOptions> = {}) => {
  let now = 1_000_000;
  const summaries: Array<[string, number]> = [];
  const cap = new WindowCap({
    perWindow: 3,
    now: () => now,
    onSummary: (key, count) => void summaries.push([key, count]),
    ...options,
  });
  const admitted = (key: string, times: number) =>
    Array.from({ length: times }, () => cap.admit(key).admitted).filter(Boolean).length;
  return { cap, summaries, admitted, advance: (ms: number) => (now += ms) };
};

describe('WindowCap', () => {
  it('admits perWindow events of a key per window and summarises the rest once, when the window rolls over', () => {
    const { cap, summaries, admitted, advance } = setup();
    expect(admitted('a', 10)).toBe(3);
    expect(summaries).toEqual([]);
    advance(59_999);
    expect(cap.admit('a').admitted).toBe(false); // still the same minute
    advance(1);
    expect(cap.admit('a')).toEqual({ admitted: true, windowStart: 1_060_000, endsInMs: 60_000 });
    expect(summaries).toEqual([['a', 8]]);
    expect(admitted('a', 2)).toBe(2);
    cap.close();
    expect(summaries).toEqual([['a', 8]]); // a window without events over the cap has no summary
  });

  it('keeps keys apart: a flood on one key leaves another its whole allowance', () => {
    const { cap, summaries, admitted } = setup();
    expect(admitted('flood', 1000)).toBe(3);
    expect(admitted('quiet', 3)).toBe(3);
    cap.close();
    expect(summaries).toEqual([['flood', 997]]);
  });

  it('end() summarises the window it was set for, and not a later one', () => {
    const { cap, summaries, advance } = setup({ perWindow: 1 });
    cap.admit('a');
    const first = cap.admit('a');
    expect(first).toMatchObject({ admitted: false, endsInMs: 60_000 });
    advance(60_000);
    cap.end('a', first.windowStart);
    expect(summaries).toEqual([['a', 1]]);
    expect(cap.size).toBe(0);
    cap.admit('a');
    cap.admit('a');
    cap.end('a', first.windowStart); // a stale timer
    expect(summaries).toEqual([['a', 1]]);
    cap.close();
    expect(summaries).toEqual([
      ['a', 1],
      ['a', 1],
    ]);
  });

  it('holds at most maxKeys windows however many distinct keys arrive, and loses no count', () => {
    const { cap, summaries, advance } = setup({ perWindow: 1, maxKeys: 100 });
    let suppressed = 0;
    let most = 0;
    for (let i = 0; i < 20_000; i++) {
      const key = `k${i % 5000}`;
      if (!cap.admit(key).admitted) suppressed += 1;
      if (!cap.admit(key).admitted) suppressed += 1;
      most = Math.max(most, cap.size);
      if (i % 1000 === 0) advance(30_000);
    }
    expect(most).toBe(100);
    cap.close();
    expect(cap.size).toBe(0);
    expect(summaries.reduce((sum, [, count]) => sum + count, 0)).toBe(suppressed);
  });

  it('evicts ended windows first, keeping the live windows’ counts', () => {
    const { cap, summaries, admitted, advance } = setup({ perWindow: 1, maxKeys: 2 });
    admitted('old', 2);
    advance(60_000);
    admitted('live', 2);
    cap.admit('new'); // full: 'old' has ended, so it goes, 'live' stays
    expect(summaries).toEqual([['old', 1]]);
    expect(cap.admit('live').admitted).toBe(false);
    cap.admit('newer'); // full of live windows: all are summarised and dropped
    expect(summaries).toEqual([
      ['old', 1],
      ['live', 2],
    ]);
    expect(cap.size).toBe(1);
  });
});
