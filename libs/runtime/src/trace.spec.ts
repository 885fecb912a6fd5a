import { describe, expect, it } from '@jest/globals';
import { continueTrace, newTrace, parseTraceparent, traceparentOf } from './trace.js';

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('parseTraceparent (W3C Trace Context level 1)', () => {
  it('reads a valid parent and keeps it as written', () => {
    expect(parseTraceparent(TP, 'k=v')).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      flags: '01',
      traceparent: TP,
      tracestate: 'k=v',
      generated: false,
    });
  });

  it('reads a later version for its first four fields', () => {
    expect(parseTraceparent(`01${TP.slice(2)}-more`)?.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it.each([
    ['ff' + TP.slice(2)],
    [`${TP}-extra`],
    ['00-00000000000000000000000000000000-b7ad6b7169203331-01'],
    ['00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01'],
    ['00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01'],
    ['garbage'],
    [42],
    ['0'.repeat(600)],
  ])('refuses %s', (value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it('drops an oversized tracestate', () => {
    expect(parseTraceparent(TP, 'x'.repeat(513))?.tracestate).toBeUndefined();
  });
});

describe('newTrace and continueTrace', () => {
  it('a new trace is sampled, random and well-formed', () => {
    const a = newTrace();
    const b = newTrace();
    expect(a.generated).toBe(true);
    expect(traceparentOf(a)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(parseTraceparent(traceparentOf(a))?.traceId).toBe(a.traceId);
    expect(a.traceId).not.toBe(b.traceId);
  });

  it('continues the first valid candidate with a span of its own', () => {
    const trace = continueTrace(['nonsense', TP], 'k=v');
    expect(trace).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      flags: '01',
      tracestate: 'k=v',
    });
    expect(trace.spanId).not.toBe('b7ad6b7169203331');
    expect(traceparentOf(trace)).toBe(`00-${trace.traceId}-${trace.spanId}-01`);
  });

  it('starts a trace when no candidate is valid', () => {
    expect(continueTrace([undefined, 'x']).generated).toBe(true);
  });
});
