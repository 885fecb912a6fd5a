import { describe, expect, it } from '@jest/globals';
import { LineFramer, OversizeScanner, type OversizeFrame } from './framer.js';

function collect(max: number) {
  const frames: string[] = [];
  const raws: string[] = [];
  const oversize: OversizeFrame[] = [];
  const framer = new LineFramer(
    max,
    (frame, raw) => {
      frames.push(frame.toString());
      raws.push(raw.toString());
    },
    (o) => oversize.push(o),
  );
  return { framer, frames, raws, oversize };
}

describe('LineFramer', () => {
  it('splits on newlines across chunks and hands over the exact bytes', () => {
    const { framer, frames, raws } = collect(1024);
    framer.push(Buffer.from('{"a":1}\n{"b"'));
    framer.push(Buffer.from(':2}\r\n{"c":3}'));
    framer.end();
    expect(frames).toEqual(['{"a":1}', '{"b":2}\r', '{"c":3}']);
    expect(raws).toEqual(['{"a":1}\n', '{"b":2}\r\n', '{"c":3}\n']);
  });

  it('never buffers a frame over the limit, and reads its id and method in constant memory', () => {
    const { framer, frames, oversize } = collect(64);
    const big = `{"jsonrpc":"2.0","id":"req-7","method":"tools/call","params":{"x":"${'y'.repeat(10_000)}"}}`;
    for (let i = 0; i < big.length; i += 100) framer.push(Buffer.from(big.slice(i, i + 100)));
    expect(framer.buffered).toBeLessThanOrEqual(64);
    framer.push(Buffer.from('\n{"ok":true}\n'));
    expect(oversize).toEqual([{ bytes: big.length, rawId: '"req-7"', method: 'tools/call', batch: false }]);
    expect(frames).toEqual(['{"ok":true}']);
  });

  it('finds an id that comes after the huge part', () => {
    const scanner = new OversizeScanner();
    scanner.feed(
      Buffer.from(`{"params":{"deep":[[{"id":"inner"}]],"s":"${'\\"'.repeat(50)}"},"method":"x/y","id":42}`),
    );
    expect(scanner.result()).toMatchObject({ rawId: '42', method: 'x/y' });
  });

  it('reports a batch and garbage without inventing ids', () => {
    const batch = new OversizeScanner();
    batch.feed(Buffer.from('[{"id":1,"method":"a"}]'));
    expect(batch.result()).toMatchObject({ batch: true, rawId: undefined });
    const junk = new OversizeScanner();
    junk.feed(Buffer.from('\u00ff\u00fe not json {{{'));
    expect(junk.result().rawId).toBeUndefined();
    const badId = new OversizeScanner();
    badId.feed(Buffer.from('{"id":{"x":1},"method":"m"}'));
    expect(badId.result().rawId).toBeUndefined();
  });
});
