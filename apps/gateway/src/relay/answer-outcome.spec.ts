import { describe, expect, it } from '@jest/globals';
import { CallRecord, outcomeOfAnswer, type AuditFields } from '../../../../libs/runtime/src/index.js';
import { MAX_SCANNED_ANSWER, scanAnswerOutcome } from './answer-outcome.js';
import { settleFromJson } from './call-outcome.js';

/** What the parse says: the reference the scan must agree with whenever it answers. */
function parsed(text: string): ReturnType<typeof outcomeOfAnswer> | 'invalid' | 'not an object' {
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    return 'invalid';
  }
  return answer && typeof answer === 'object' && !Array.isArray(answer)
    ? outcomeOfAnswer(answer)
    : 'not an object';
}

/** Whether the scan must answer this text itself (the cases it exists for), not leave it to the parse. */
function scannable(text: string): boolean {
  return (
    text.length <= MAX_SCANNED_ANSWER &&
    // eslint-disable-next-line no-control-regex
    !/[\\\u0000-\u001f]/.test(text) &&
    typeof parsed(text) === 'object' &&
    depthOf(JSON.parse(text)) <= 29
  );
}

function depthOf(value: unknown): number {
  if (!value || typeof value !== 'object') return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depthOf));
}

function agrees(text: string): void {
  const scanned = scanAnswerOutcome(text);
  const reference = parsed(text);
  if (scanned === undefined) {
    if (scannable(text)) throw new Error(`the scan left a plain answer to the parse: ${text}`);
    return;
  }
  if (typeof reference !== 'object' || JSON.stringify(scanned) !== JSON.stringify(reference))
    throw new Error(`${text}: scanned ${JSON.stringify(scanned)}, parsed ${JSON.stringify(reference)}`);
}

const ANSWERED = { outcome: 'answered' };
const TOOL_ERROR = { outcome: 'error', error_class: 'tool_error' };
const JSONRPC_ERROR = { outcome: 'error', error_class: 'jsonrpc_error' };

describe('the outcome of an answer read off its text', () => {
  it('reads error, its code and result.isError as the parse does, the last of repeated names', () => {
    const cases: Array<[string, unknown]> = [
      ['{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hello"}]}}', ANSWERED],
      ['{"id":1,"result":{"isError":true}}', TOOL_ERROR],
      ['{"id":1,"result":{"isError":"true"}}', ANSWERED],
      ['{"id":1,"result":{"isError":1}}', ANSWERED],
      ['{"result":{"isError":true,"isError":false}}', ANSWERED],
      ['{"result":{"isError":false,"isError":true}}', TOOL_ERROR],
      ['{"result":{"isError":true},"result":{}}', ANSWERED],
      ['{"result":{},"result":{"isError":true}}', TOOL_ERROR],
      ['{"result":[{"isError":true}]}', ANSWERED],
      ['{"result":{"x":{"isError":true}}}', ANSWERED],
      ['{"x":{"result":{"isError":true}}}', ANSWERED],
      ['{"result":{"content":[{"type":"text","text":"isError: true, error"}],"note":"isError"}}', ANSWERED],
      ['{"result":{"isError":{"isError":true}}}', ANSWERED],
      ['{"isError":true}', ANSWERED],
      ['{"error":{"code":-32602,"message":"bad"}}', { outcome: 'error', error_class: 'jsonrpc_-32602' }],
      ['{"error":null}', JSONRPC_ERROR],
      ['{"error":false}', JSONRPC_ERROR],
      ['{"error":[{"code":5}]}', JSONRPC_ERROR],
      ['{"error":{"code":"5"}}', JSONRPC_ERROR],
      ['{"error":{"code":1.5}}', JSONRPC_ERROR],
      ['{"error":{"code":1e2}}', { outcome: 'error', error_class: 'jsonrpc_100' }],
      ['{"error":{"code":-0}}', { outcome: 'error', error_class: 'jsonrpc_0' }],
      ['{"error":{"code":9007199254740993}}', JSONRPC_ERROR],
      ['{"error":{"code":1e400}}', JSONRPC_ERROR],
      ['{"error":{"data":{"code":5}}}', JSONRPC_ERROR],
      ['{"error":{"code":5,"code":null}}', JSONRPC_ERROR],
      ['{"error":{"code":{"code":5}}}', JSONRPC_ERROR],
      ['{"error":{"code":5},"error":{}}', JSONRPC_ERROR],
      ['{"error":{},"error":{"code":7}}', { outcome: 'error', error_class: 'jsonrpc_7' }],
      ['{"result":{"isError":true},"error":{"code":3}}', { outcome: 'error', error_class: 'jsonrpc_3' }],
      ['{"errors":1,"error_":2,"rror":3,"result_":{"isError":true}}', ANSWERED],
      ['  {  "error" :  { "code" : 12 } }  ', { outcome: 'error', error_class: 'jsonrpc_12' }],
      ['{}', ANSWERED],
      ['{"a":{},"b":[],"c":[[],{}],"d":""}', ANSWERED],
    ];
    for (const [text, outcome] of cases) {
      expect([text, scanAnswerOutcome(text)]).toEqual([text, outcome]);
      agrees(text);
    }
  });

  it('leaves to the parse what it cannot read exactly: escapes, control characters, batches, depth, size', () => {
    const left = [
      '{"\\u0065rror":{"code":1}}', // a name spelled with an escape
      '{"result":{"is\\u0045rror":true}}',
      '{"result":{"content":[{"text":"\\"isError\\": true"}]}}', // an escaped quote inside a string
      '{"result":{"content":[{"text":"a\\nb"}]}}',
      '{\n"result":{}\n}', // raw line breaks (valid between tokens)
      '{"result":{"text":"tab\there"}}', // a raw tab in a string (invalid)
      '[{"id":1,"result":{}}]',
      '"error"',
      '5',
      'null',
      '\ufeff{}',
      '['.repeat(10_000) + ']'.repeat(10_000),
      '{"a":'.repeat(31) + '1' + '}'.repeat(31),
      `{"result":{"content":[{"type":"text","text":"${'x'.repeat(MAX_SCANNED_ANSWER)}"}]}}`,
    ];
    for (const text of left) {
      expect([text, scanAnswerOutcome(text)]).toEqual([text, undefined]);
      agrees(text);
    }
    const deep = '{"a":'.repeat(28) + '1' + '}'.repeat(28);
    expect(scanAnswerOutcome(deep)).toEqual(ANSWERED);
  });

  it('answers nothing for invalid JSON', () => {
    const invalid = [
      '',
      ' ',
      '{',
      '{"result":{}',
      '{"result":{}}}',
      '{"result":{}}x',
      '{"result":{}} {}',
      '{"a":01}',
      '{"a":1.}',
      '{"a":.5}',
      '{"a":-}',
      '{"a":+1}',
      '{"a":1e}',
      '{"a":1e+}',
      '{"a":0x10}',
      '{"a":tru}',
      '{"a":truex}',
      '{"a":nul}',
      '{"a":NaN}',
      '{"a":Infinity}',
      '{"a" 1}',
      '{"a":}',
      '{,}',
      '{"a":1,}',
      '{"a":1,,"b":2}',
      '{"a":[1,]}',
      '{"a":[,1]}',
      '{"a":[1 2]}',
      '{"a":[1}',
      '{"a":{]}',
      '{"a":"unterminated}',
      '{"a":"x"y"}',
      "{'a':1}",
      '{a:1}',
      '{"a":1 "b":2}',
      '{"error":{"code":5}',
      '{"result":{"isError":true}]',
      '{"a":\u00a01}',
    ];
    for (const text of invalid) {
      expect([text, parsed(text)]).toEqual([text, 'invalid']);
      expect([text, scanAnswerOutcome(text)]).toEqual([text, undefined]);
    }
  });

  it('agrees with the parse on 20,000 generated answers and their mutations', () => {
    let seed = 15;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
    const names = [
      'error',
      'result',
      'code',
      'isError',
      'id',
      'jsonrpc',
      'content',
      'text',
      'errors',
      'Error',
    ];
    const value = (depth: number): unknown => {
      const r = random();
      if (depth > 4 || r < 0.45)
        return pick([
          true,
          false,
          null,
          0,
          -1,
          -32602,
          1.5,
          1e21,
          2 ** 53 + 2,
          'error',
          'isError',
          '',
          'é😀',
          '{"isError":true}',
          'x'.repeat(Math.floor(random() * 40)),
        ]);
      if (r < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      const object: Record<string, unknown> = {};
      for (let k = Math.floor(random() * 5); k > 0; k--) object[pick(names)] = value(depth + 1);
      return object;
    };
    const answer = (): string => {
      const message: Record<string, unknown> = { jsonrpc: '2.0', id: Math.floor(random() * 100) };
      if (random() < 0.5)
        message.result = random() < 0.3 ? { isError: pick([true, false, 'true']) } : value(1);
      if (random() < 0.3) message.error = random() < 0.7 ? { code: pick([-32602, 5, 1.5, '5']) } : value(1);
      if (random() < 0.3) Object.assign(message, value(0));
      let text = JSON.stringify(message, undefined, random() < 0.2 ? 1 : undefined);
      if (random() < 0.3) text = text.replace(/,/g, ' , ').replace(/:/g, ': ');
      // A repeated name, as a hostile upstream may send (the parse keeps the last).
      if (random() < 0.2) text = text.replace(/^\{/, `{"result":{"isError":true},"error":{"code":9},`);
      return text;
    };
    const alphabet = '{}[]",: 0123456789.eE+-tfnrulsa\\\n';
    const mutate = (text: string): string => {
      const at = Math.floor(random() * (text.length + 1));
      const r = random();
      if (r < 0.35) return text.slice(0, at) + text.slice(at + 1);
      if (r < 0.7) return text.slice(0, at) + pick([...alphabet]) + text.slice(at);
      if (r < 0.85) return text.slice(0, at) + pick([...alphabet]) + text.slice(at + 1);
      const end = at + Math.floor(random() * 12);
      return text.slice(0, end) + text.slice(at, end) + text.slice(end);
    };
    let answered = 0;
    for (let n = 0; n < 20_000; n++) {
      let text = answer();
      agrees(text);
      if (scanAnswerOutcome(text)) answered++;
      for (let m = Math.floor(random() * 3); m >= 0; m--) {
        text = mutate(text);
        agrees(text);
      }
    }
    expect(answered).toBeGreaterThan(8_000);
  });
});

describe('settleFromJson', () => {
  const settled = (body: string | Buffer, requestId = '1'): AuditFields | undefined => {
    let fields: AuditFields | undefined;
    const call = new CallRecord((f) => (fields = f), { type: 'tool_call.allowed', request_id: requestId });
    settleFromJson(call, body);
    return fields;
  };

  it('settles a call from its answer, scanned or parsed alike, text or bytes', () => {
    for (const [body, outcome] of [
      ['{"id":1,"result":{"isError":true}}', TOOL_ERROR],
      [Buffer.from('{"id":1,"result":{"isError":true}}'), TOOL_ERROR],
      ['{"id":1,"result":{"content":[{"text":"\\"isError\\":true"}]}}', ANSWERED],
      ['{"id":1,"result":{"is\\u0045rror":true}}', TOOL_ERROR],
      ['{"id":1,"\\u0065rror":{"code":-32601}}', { outcome: 'error', error_class: 'jsonrpc_-32601' }],
      [
        Buffer.from('{"id":1,"result":{"text":"é"},"error":{"code":4}}'),
        { outcome: 'error', error_class: 'jsonrpc_4' },
      ],
      [
        '[{"id":2,"result":{"isError":true}},{"id":1,"error":{"code":8}}]',
        { outcome: 'error', error_class: 'jsonrpc_8' },
      ],
      ['{"id":1,"result":{}', { outcome: 'upstream_failed', error_class: 'invalid_json' }],
      ['{"id":1,"result":{}}garbage', { outcome: 'upstream_failed', error_class: 'invalid_json' }],
    ] as Array<[string | Buffer, object]>)
      expect([String(body), settled(body)]).toEqual([
        String(body),
        { type: 'tool_call.allowed', request_id: '1', ...outcome },
      ]);
  });
});
