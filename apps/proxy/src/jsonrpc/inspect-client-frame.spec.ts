import { describe, expect, it } from '@jest/globals';
import { MAX_JSON_DEPTH as MAX_CLIENT_DEPTH } from '../../../../libs/runtime/src/index.js';
import { inspectClientFrame } from './inspect-client-frame.js';

const inspect = (text: string | Buffer) =>
  inspectClientFrame(Buffer.isBuffer(text) ? text : Buffer.from(text));
const answer = (text: string | Buffer) => {
  const result = inspect(text);
  return 'answer' in result && result.answer ? JSON.parse(result.answer.toString()) : undefined;
};

describe('inspectClientFrame', () => {
  it('passes requests, notifications and responses through with what the pipeline needs', () => {
    const request = inspect(
      '{"jsonrpc":"2.0","id":99999999999999999999,"method":"tools/call","params":{"name":"x"}}',
    );
    expect(request).toMatchObject({
      kind: 'request',
      rawId: '99999999999999999999',
      method: 'tools/call',
      params: { name: 'x' },
    });
    expect(inspect('{"jsonrpc":"2.0","method":"notifications/initialized"}')).toMatchObject({
      kind: 'notification',
    });
    expect(inspect('{"jsonrpc":"2.0","id":"s-1","result":{}}')).toMatchObject({
      kind: 'response',
      id: 's-1',
    });
    expect(inspect(' \r')).toEqual({ kind: 'blank' });
  });

  it.each([
    ['not json', null, -32700],
    ['{"jsonrpc":"2.0","id":1,"method":"m","method":"n"}', 1, -32600],
    ['{"jsonrpc":"2.0","id":true,"method":"m"}', null, -32600],
    ['{"jsonrpc":"1.0","id":"a","method":"m"}', 'a', -32600],
    ['{"jsonrpc":"2.0","id":2,"method":"m","params":3}', 2, -32600],
    ['{"jsonrpc":"2.0","id":3,"method":"m","result":{}}', 3, -32600],
    [
      `{"jsonrpc":"2.0","id":4,"method":"m","params":{"a":${'['.repeat(MAX_CLIENT_DEPTH)}${']'.repeat(MAX_CLIENT_DEPTH)}}}`,
      4,
      -32600,
    ],
    ['42', null, -32600],
  ])('%s → error for id %j', (text, id, code) => {
    expect(answer(text)).toMatchObject({ jsonrpc: '2.0', id, error: { code } });
  });

  it('invalid UTF-8 is answered for the id a lenient read shows', () => {
    const bytes = Buffer.concat([
      Buffer.from('{"jsonrpc":"2.0","id":7,"method":"m","params":{"x":"'),
      Buffer.from([0xff]),
      Buffer.from('"}}'),
    ]);
    expect(answer(bytes)).toMatchObject({
      id: 7,
      error: { code: -32600, message: expect.stringMatching(/UTF-8/) },
    });
  });

  it('batches: one error per request, none for notifications, one for an empty batch', () => {
    const batch = inspect(
      '[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"notifications/x"}]',
    );
    expect(batch).toMatchObject({ kind: 'batch', count: 2 });
    expect(answer('[{"jsonrpc":"2.0","id":1,"method":"a"}]')).toEqual([
      {
        jsonrpc: '2.0',
        id: 1,
        error: { code: -32600, message: 'Invalid Request: batches are not supported' },
      },
    ]);
    expect(answer('[]')).toMatchObject({ id: null, error: { code: -32600 } });
    expect(inspect('[{"jsonrpc":"2.0","method":"notifications/x"}]')).toEqual({
      kind: 'batch',
      count: 1,
      answer: undefined,
    });
  });

  it('a broken notification is dropped without an answer', () => {
    expect(inspect('{"jsonrpc":"2.0","method":"notifications/x","method":"y"}')).toMatchObject({
      kind: 'refused',
      answer: undefined,
    });
  });
});
