import { describe, expect, it } from '@jest/globals';
import { Deadlines } from './body.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * Waits until `done()` holds (checked every 5 ms), for at most 5 s. The specs wait for what they expect rather than
 * for a fixed time: under a loaded machine the event loop can stall for hundreds of ms, and a deadline that is due
 * during a stall fires when it ends, after a fixed sleep may already have resolved.
 */
async function until(done: () => boolean): Promise<void> {
  for (const start = performance.now(); !done() && performance.now() - start < 5000;) await sleep(5);
}

describe('Deadlines (the body reader deadline)', () => {
  it('fires each deadline once, in order, no earlier than its length after it was set; a cancelled one never', async () => {
    const deadlines = new Deadlines(60);
    const fired: Array<[string, number]> = [];
    const set: Record<string, number> = {};
    const add = (name: string) => {
      set[name] = performance.now();
      return deadlines.add(() => fired.push([name, performance.now()]));
    };
    add('a');
    await sleep(20);
    const b = add('b');
    const c = add('c');
    deadlines.cancel(c);
    await sleep(25);
    add('d');
    await until(() => fired.length >= 3);
    await sleep(20); // room for a wrong fourth
    expect(fired.map(([name]) => name)).toEqual(['a', 'b', 'd']);
    for (const [name, at] of fired) expect(at - set[name]).toBeGreaterThanOrEqual(60);
    deadlines.cancel(b); // after it fired: nothing happens
    await sleep(80);
    expect(fired).toHaveLength(3);
  });

  it('a deadline set after the earlier ones were cancelled fires at its own time, not theirs', async () => {
    const deadlines = new Deadlines(400);
    const fired: number[] = [];
    deadlines.cancel(deadlines.add(() => fired.push(-1)));
    await sleep(200);
    const setAt = performance.now();
    deadlines.add(() => fired.push(performance.now() - setAt));
    // The timer armed for the cancelled one runs ~200 ms after this was set and must find it not due: it fires
    // at its own time, 400 ms after it was set, however late the loop runs.
    await until(() => fired.length >= 1);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toBeGreaterThanOrEqual(400);
  });

  it('fires a deadline only once its clock says it is due (a timer that runs early waits the rest)', async () => {
    let clock = 0;
    const deadlines = new Deadlines(20, () => clock);
    let fired = 0;
    deadlines.add(() => fired++);
    await sleep(45); // the timer ran (twice) with the clock still at 0: not due
    expect(fired).toBe(0);
    clock = 20;
    await sleep(150);
    expect(fired).toBe(1);
  });

  it('a deadline set by a firing one fires at its own time, after those already set', async () => {
    const deadlines = new Deadlines(50);
    const fired: Array<[string, number]> = [];
    const start = performance.now();
    deadlines.add(() => {
      fired.push(['a', performance.now() - start]);
      deadlines.add(() => fired.push(['c', performance.now() - start]));
    });
    await sleep(20);
    deadlines.add(() => fired.push(['b', performance.now() - start]));
    await until(() => fired.length >= 3);
    expect(fired.map(([name]) => name)).toEqual(['a', 'b', 'c']);
    expect(fired[1][1]).toBeGreaterThanOrEqual(70);
    expect(fired[2][1]).toBeGreaterThanOrEqual(fired[0][1] + 50);
  });
});
