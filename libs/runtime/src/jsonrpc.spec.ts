import { describe, expect, it } from '@jest/globals';
import { MAX_JSON_DEPTH, namesRequestMethod, readClientMessage } from './jsonrpc.js';

/** The one reader both surfaces use: the proxy's stdio frames and the gateway's HTTP bodies. */
describe('readClientMessage', () => {
  it('tells requests, notifications, responses and batches apart', () => {
    const request = readClientMessage(
      '{"jsonrpc":"2.0","id":99999999999999999999,"method":"tools/call","params":{}}',
    );
    expect(request).toMatchObject({ kind: 'request', rawId: '99999999999999999999', method: 'tools/call' });
    expect(readClientMessage('{"jsonrpc":"2.0","method":"notifications/initialized"}')).toMatchObject({
      kind: 'notification',
      method: 'notifications/initialized',
    });
    expect(readClientMessage('{"jsonrpc":"2.0","id":"s","result":{}}')).toMatchObject({
      kind: 'response',
      id: 's',
    });
    expect(readClientMessage('{"jsonrpc":"2.0","id":null,"error":{"code":1,"message":"m"}}')).toMatchObject({
      kind: 'response',
      id: null,
    });
    expect(readClientMessage('[{"jsonrpc":"2.0","id":1,"method":"a"}]')).toMatchObject({ kind: 'batch' });
    expect(readClientMessage(Buffer.from(' \r\n'))).toEqual({ kind: 'blank' });
  });

  it.each([
    ['not json', -32700, undefined, true],
    ['42', -32600, undefined, true],
    ['{"jsonrpc":"2.0","id":1,"method":"m","method":"n"}', -32600, '1', true],
    ['{"jsonrpc":"2.0","id":true,"method":"m"}', -32600, undefined, true],
    ['{"jsonrpc":"1.0","id":"a","method":"m"}', -32600, '"a"', true],
    ['{"jsonrpc":"2.0","id":2,"method":"m","params":3}', -32600, '2', true],
    ['{"jsonrpc":"2.0","id":2,"method":"m","params":[1]}', -32600, '2', true],
    ['{"jsonrpc":"2.0","id":3,"method":"m","result":{}}', -32600, '3', true],
    [`{"jsonrpc":"2.0","id":4,"method":"${'m'.repeat(257)}"}`, -32600, '4', true],
    [`{"jsonrpc":"2.0","id":"${'i'.repeat(129)}","method":"m"}`, -32600, undefined, true],
    ['{"jsonrpc":"2.0","id":5,"result":{},"error":{}}', -32600, '5', false],
    ['{"jsonrpc":"2.0","result":{}}', -32600, undefined, false],
    ['{"jsonrpc":"2.0","method":"notifications/x","method":"y"}', -32600, undefined, false],
  ])('%s → %d for id %s (answered: %s)', (text, code, rawId, answerable) => {
    const read = readClientMessage(text);
    expect(read).toMatchObject({ kind: 'invalid', code, answerable });
    expect(read.kind === 'invalid' ? read.rawId : 'not invalid').toBe(rawId);
  });

  it('refuses nesting past the limit, measured without recursion (a 5,000-deep body is an answer, not a crash)', () => {
    const nested = (depth: number) =>
      `{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    expect(readClientMessage(nested(MAX_JSON_DEPTH - 2)).kind).toBe('request');
    expect(readClientMessage(nested(MAX_JSON_DEPTH))).toMatchObject({
      kind: 'invalid',
      problem: `nesting deeper than ${MAX_JSON_DEPTH} levels`,
    });
    expect(readClientMessage(nested(5000))).toMatchObject({ kind: 'invalid', code: -32600 });
  });

  it('refuses invalid UTF-8, answering the id a lenient read shows', () => {
    const bytes = Buffer.concat([
      Buffer.from('{"jsonrpc":"2.0","id":7,"method":"m","params":{"x":"'),
      Buffer.from([0xff]),
      Buffer.from('"}}'),
    ]);
    expect(readClientMessage(bytes)).toMatchObject({
      kind: 'invalid',
      code: -32600,
      rawId: '7',
      problem: expect.stringMatching(/UTF-8/),
    });
    expect(readClientMessage(Buffer.from([0xff, 0xfe]))).toMatchObject({ kind: 'invalid', code: -32700 });
  });
});

describe('namesRequestMethod', () => {
  it('is every method but notifications/*', () => {
    expect(namesRequestMethod('tools/call')).toBe(true);
    expect(namesRequestMethod('ping')).toBe(true);
    expect(namesRequestMethod('notifications/cancelled')).toBe(false);
  });
});
