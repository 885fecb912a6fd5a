import { describe, expect, it } from '@jest/globals';
import { scanShape, withMetaMembers, withTraceparent } from './jsonrpc-shape.js';

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const splice = (text: string) => withTraceparent(text, scanShape(text), TP);

describe('scanShape', () => {
  it('records the spans of id, params and _meta members', () => {
    const text = '{"jsonrpc":"2.0", "id" : 12345678901234567890 ,"method":"m","params":{"_meta":{"a":1}}}';
    const shape = scanShape(text);
    const id = shape.root.get('id')!;
    expect(text.slice(id.start, id.end)).toBe('12345678901234567890');
    expect([...shape.params!.keys()]).toEqual(['_meta']);
    expect([...shape.meta!.keys()]).toEqual(['a']);
    expect(shape.depth).toBe(3);
  });

  it('finds duplicate member names, including ones spelled with escapes', () => {
    expect(scanShape('{"method":"a","method":"b"}').duplicate).toEqual({ key: 'method', at: '$' });
    expect(scanShape('{"params":{"name":"x","n\\u0061me":"y"}}').duplicate).toEqual({
      key: 'name',
      at: '$.params',
    });
    expect(scanShape('{"a":[{"k":1},{"k":2}]}').duplicate).toBeUndefined();
  });

  it('measures depth without recursion', () => {
    const text = '{"a":' + '['.repeat(5000) + ']'.repeat(5000) + '}';
    expect(scanShape(text).depth).toBe(5001);
  });
});

describe('withTraceparent', () => {
  it.each([
    [
      '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"traceparent":"TP"}}}',
    ],
    ['{"id":1,"method":"m","params":{}}', '{"id":1,"method":"m","params":{"_meta":{"traceparent":"TP"}}}'],
    ['{"id":1,"params":{"name":"x"}}', '{"id":1,"params":{"_meta":{"traceparent":"TP"},"name":"x"}}'],
    ['{"id":1,"params":{"_meta":{}}}', '{"id":1,"params":{"_meta":{"traceparent":"TP"}}}'],
    [
      '{"id":1,"params":{"_meta":{"progressToken":1}}}',
      '{"id":1,"params":{"_meta":{"traceparent":"TP","progressToken":1}}}',
    ],
  ])('%s', (input, expected) => {
    const out = splice(input)!;
    expect(out).toBe(expected.replace('TP', TP));
    expect(() => JSON.parse(out)).not.toThrow();
  });

  it('leaves frames alone where there is no sane place for it', () => {
    expect(splice('{"id":1,"params":[1,2]}')).toBeUndefined();
    expect(splice('{"id":1,"params":{"_meta":"x"}}')).toBeUndefined();
    expect(splice(`{"id":1,"params":{"_meta":{"traceparent":"${TP}"}}}`)).toBeUndefined();
  });

  it('keeps every other byte, big integers and odd spacing included', () => {
    const input = '{ "id" : 99999999999999999999 , "params" : { "n" : 1.50 } }';
    expect(splice(input)).toBe(
      `{ "id" : 99999999999999999999 , "params" : {"_meta":{"traceparent":"${TP}"}, "n" : 1.50 } }`,
    );
  });
});

describe('withMetaMembers', () => {
  const set = (text: string, members: Record<string, string>) =>
    withMetaMembers(text, scanShape(text), members);

  it('replaces members the frame has and inserts the ones it lacks, keeping every other byte', () => {
    const input = '{"id":1,"params":{"_meta":{"traceparent":"old", "k":1},"n":1.50}}';
    const out = set(input, { traceparent: TP, tracestate: 'a=b' })!;
    expect(out).toBe(
      `{"id":1,"params":{"_meta":{"tracestate":"a=b","traceparent":"${TP}", "k":1},"n":1.50}}`,
    );
    expect(JSON.parse(out).params._meta).toEqual({ traceparent: TP, tracestate: 'a=b', k: 1 });
  });

  it('creates params and _meta where there are none, and refuses where there is no sane place', () => {
    expect(set('{"id":1,"method":"m"}', { traceparent: TP })).toBe(
      `{"id":1,"method":"m","params":{"_meta":{"traceparent":"${TP}"}}}`,
    );
    expect(set('{"id":1,"params":[1]}', { traceparent: TP })).toBeUndefined();
    expect(set('{"id":1,"params":{"_meta":[]}}', { traceparent: TP })).toBeUndefined();
  });
});
