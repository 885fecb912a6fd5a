import { describe, expect, it } from '@jest/globals';
import { SerialQueue } from './relay-io.js';

function queue(log: string[]) {
  return new SerialQueue(
    2,
    (backlogged) => log.push(backlogged ? 'hold' : 'release'),
    (error) => log.push(`error ${error.message}`),
    () => log.push('idle'),
  );
}

describe('SerialQueue.run', () => {
  it('runs a task at once when nothing waits, and reports idle', () => {
    const log: string[] = [];
    const q = queue(log);
    q.run((a: string, b: number) => void log.push(`${a}${b}`), 'x', 1);
    expect(log).toEqual(['x1', 'idle']);
    expect(q.idle).toBe(true);
  });

  it('holds every later task behind an asynchronous one, in order, then drains', async () => {
    const log: string[] = [];
    const q = queue(log);
    let finish!: () => void;
    q.run(
      (a: string) =>
        new Promise<void>((resolve) => {
          log.push(`start ${a}`);
          finish = () => {
            log.push(`end ${a}`);
            resolve();
          };
        }),
      'slow',
      0,
    );
    q.run((a: string) => void log.push(a), 'second', 0);
    q.push(() => void log.push('third'));
    expect(log).toEqual(['start slow']);
    expect(q.idle).toBe(false);
    finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['start slow', 'end slow', 'second', 'third', 'release', 'idle']);
    expect(q.idle).toBe(true);
  });

  it('reports a task that throws or rejects and goes on with the next', async () => {
    const log: string[] = [];
    const q = queue(log);
    q.run(
      () => {
        throw new Error('sync');
      },
      0,
      0,
    );
    q.run(() => Promise.reject(new Error('async')), 0, 0);
    q.run((a: string) => void log.push(a), 'after', 0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['error sync', 'idle', 'error async', 'after', 'release', 'idle']);
  });
});
