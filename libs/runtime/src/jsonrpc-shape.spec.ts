import { describe, expect, it } from '@jest/globals';
import { stringEnd } from '../../detectors/src/index.js';
import { scanShape, withMetaMembers, withTraceparent, type FrameShape, type Span } from './jsonrpc-shape.js';

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

/**
 * The scan as it was before it shared one list of names (a Set and a path string per container): the reference
 * the faster scan must agree with on every frame, duplicates and their paths included.
 */
function referenceScan(text: string): FrameShape {
  type Tag = 'root' | 'params' | 'meta' | null;
  interface Open {
    object: boolean;
    tag: Tag;
    names: Set<string> | null;
    key: string | undefined;
    valueStart: number;
    members: Map<string, Span> | null;
    path: string;
  }
  const space = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
  const stack: Open[] = [];
  let depth = 0;
  let duplicate: FrameShape['duplicate'];
  const out: { root?: Map<string, Span>; params?: Map<string, Span>; meta?: Map<string, Span> } = {};
  let paramsOpen: number | undefined;
  let metaOpen: number | undefined;
  let rootClose: number | undefined;
  const endValue = (o: Open, at: number) => {
    if (!o.members || o.key === undefined) return;
    let end = at;
    while (end > o.valueStart && space(text.charCodeAt(end - 1))) end--;
    o.members.set(o.key, { start: o.valueStart, end });
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 0x22) {
      const end = stringEnd(text, i);
      if (top && top.object && top.key === undefined) {
        const literal = text.slice(i, end + 1);
        const name = literal.includes('\\') ? (JSON.parse(literal) as string) : literal.slice(1, -1);
        if (top.names!.has(name) && !duplicate) duplicate = { key: name.slice(0, 64), at: top.path };
        top.names!.add(name);
        top.key = name;
      }
      i = end;
    } else if (c === 0x3a) {
      let start = i + 1;
      while (start < text.length && space(text.charCodeAt(start))) start++;
      top.valueStart = start;
    } else if (c === 0x7b || c === 0x5b) {
      const object = c === 0x7b;
      let tag: Tag = null;
      if (!top) tag = object ? 'root' : null;
      else if (object && top.tag === 'root' && top.key === 'params') tag = 'params';
      else if (object && top.tag === 'params' && top.key === '_meta') tag = 'meta';
      const members = tag ? new Map<string, Span>() : null;
      if (tag) out[tag] = members!;
      if (tag === 'params') paramsOpen = i;
      if (tag === 'meta') metaOpen = i;
      const path = !top ? '$' : top.object ? `${top.path}.${(top.key ?? '').slice(0, 32)}` : `${top.path}[]`;
      stack.push({
        object,
        tag,
        names: object ? new Set() : null,
        key: undefined,
        valueStart: i + 1,
        members,
        path,
      });
      depth = Math.max(depth, stack.length);
    } else if (c === 0x7d || c === 0x5d) {
      const closed = stack.pop()!;
      if (closed.object) endValue(closed, i);
      if (closed.tag === 'root') rootClose = i;
    } else if (c === 0x2c && top.object) {
      endValue(top, i);
      top.key = undefined;
    }
  }
  const { root, params, meta } = out;
  return { depth, duplicate, root: root ?? new Map(), params, meta, paramsOpen, metaOpen, rootClose };
}

/** A deterministic generator of JSON frames whose objects often repeat a member name (xorshift, fixed seed). */
function frames(count: number): string[] {
  let state = 0x9e3779b9;
  const rand = (n: number) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const KEYS = [
    'a',
    'b',
    'id',
    'params',
    '_meta',
    'traceparent',
    'n\\u0061me',
    'name',
    'x'.repeat(40),
    'k\\"q',
  ];
  const ws = () => [' ', '', '\n', '\t '][rand(4)];
  const value = (level: number): string => {
    const pick = level > 5 ? rand(3) : rand(6);
    if (pick === 0) return String(rand(1000));
    if (pick === 1) return '"s{,}[:]\\""';
    if (pick === 2) return 'null';
    if (pick === 3) return `[${Array.from({ length: rand(4) }, () => value(level + 1)).join(',')}]`;
    const size = rand(5) === 0 ? 10 + rand(30) : rand(5);
    const members = Array.from({ length: size }, (_, k) => {
      const key = rand(3) === 0 ? KEYS[rand(KEYS.length)] : `m${size > 8 ? k : rand(6)}`;
      return `${ws()}"${key}"${ws()}:${ws()}${value(level + 1)}`;
    });
    if (size > 8 && rand(2) === 0) members.push(`"m${rand(size)}":0`); // a late repeat in a big object
    return `{${members.join(',')}}`;
  };
  return Array.from({ length: count }, () => {
    const params = rand(4) === 0 ? '' : `,"params":${value(1)}`;
    return `{"jsonrpc":"2.0","id":${rand(100)},"method":"m"${params}}`;
  });
}

describe('scanShape agrees with the reference scan', () => {
  const plain = (shape: FrameShape) => ({
    ...shape,
    root: [...shape.root],
    params: shape.params && [...shape.params],
    meta: shape.meta && [...shape.meta],
  });

  it('on generated frames: duplicates, their paths, depth and spans', () => {
    const texts = frames(4000);
    let duplicates = 0;
    for (const text of texts) {
      JSON.parse(text); // the scan only ever sees text JSON.parse accepted
      const expected = referenceScan(text);
      if (expected.duplicate) duplicates++;
      expect(plain(scanShape(text))).toEqual(plain(expected));
    }
    expect(duplicates).toBeGreaterThan(400); // the generator does make them
    expect(texts.length - duplicates).toBeGreaterThan(400);
  });

  it.each([
    ['{"a":1,"b":{"a":2},"a":3}', '$'],
    ['{"p":{"q":[{"r":1,"s":{"t":1}},{"r":2,"r":3}]}}', '$.p.q[]'],
    [`{"${'k'.repeat(40)}":{"z":1,"z":2}}`, `$.${'k'.repeat(32)}`],
    [`{${Array.from({ length: 40 }, (_, k) => `"m${k}":{"m${k}":1}`).join(',')},"m3":0}`, '$'],
    [`{${Array.from({ length: 17 }, (_, k) => `"m${k}":1`).join(',')},"m16":0}`, '$'],
    [`{${Array.from({ length: 20 }, (_, k) => `"m${k}":1`).join(',')},"m0":0}`, '$'],
    [`{"o":{${Array.from({ length: 16 }, (_, k) => `"m${k}":1`).join(',')},"m0":0}}`, '$.o'],
    ['{"a":{"b":1},"c":{"b":1},"d":[{"b":1},{"b":1}]}', undefined],
    ['{"a":1,"\u0061":2,"b":1,"b":2}', '$'],
  ])('%s', (text, at) => {
    expect(scanShape(text).duplicate?.at).toBe(at);
    expect(plain(scanShape(text))).toEqual(plain(referenceScan(text)));
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

/**
 * `withMetaMembers` as it was before it made one insertion without an edit list (an `Object.entries` array, an
 * edits array, a missing-members array and a sort per request): the reference the leaner one must agree with.
 */
function referenceWithMetaMembers(
  text: string,
  shape: FrameShape,
  members: Readonly<Record<string, string>>,
): string | undefined {
  const edits: Array<{ start: number; end: number; insert: string }> = [];
  const missing: string[] = [];
  for (const [name, value] of Object.entries(members)) {
    const span = shape.meta?.get(name);
    if (span) edits.push({ start: span.start, end: span.end, insert: JSON.stringify(value) });
    else missing.push(`${JSON.stringify(name)}:${JSON.stringify(value)}`);
  }
  if (missing.length > 0) {
    const probe = withMetaMembersInsertion(shape, missing.join(','));
    if (!probe) return undefined;
    edits.push({ start: probe.at, end: probe.at, insert: probe.insert });
  }
  let out = text;
  for (const edit of edits.sort((a, b) => b.start - a.start))
    out = out.slice(0, edit.start) + edit.insert + out.slice(edit.end);
  return out;
}

/** The old `metaInsertion`, spelled out here so the reference does not share code with what it checks. */
function withMetaMembersInsertion(
  shape: FrameShape,
  added: string,
): { at: number; insert: string } | undefined {
  if (shape.meta && shape.metaOpen !== undefined)
    return { at: shape.metaOpen + 1, insert: shape.meta.size > 0 ? `${added},` : added };
  if (shape.params && shape.paramsOpen !== undefined) {
    if (shape.params.has('_meta')) return undefined;
    const meta = `"_meta":{${added}}`;
    return { at: shape.paramsOpen + 1, insert: shape.params.size > 0 ? `${meta},` : meta };
  }
  if (shape.root.has('params') || shape.rootClose === undefined) return undefined;
  return { at: shape.rootClose, insert: `${shape.root.size > 0 ? ',' : ''}"params":{"_meta":{${added}}}` };
}

describe('withMetaMembers agrees with the reference', () => {
  const META_FRAMES = [
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}',
    '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    '{}',
    '{"id":1,"params":{}}',
    '{"id":1,"params":{"_meta":{}}}',
    '{"id":1,"params":{"_meta":{"traceparent":"old"}}}',
    '{"id":1,"params":{"_meta":{"tracestate":"x=1" , "traceparent" : "old" ,"k":[1,{"traceparent":2}]}}}',
    '{"id":1,"params":{"_meta":{"k":1,"tracestate":"s"}, "name":"n"}}',
    '{"id":1,"params":{"a":{"_meta":{"traceparent":"deep"}}}}',
    '{"id":1,"params":[1]}',
    '{"id":1,"params":{"_meta":"x"}}',
    '{"id":1,"params":{"_meta":null}}',
    '{ "id" : 99999999999999999999 , "params" : { "n" : 1.50 } }',
    '{"id":"\\u00e9","params":{"_meta":{"tr\\u0061ceparent":"escaped"}}}',
  ];
  const MEMBER_SETS: Array<Record<string, string>> = [
    {},
    { traceparent: TP },
    { traceparent: TP, tracestate: 'a=b,c=d' },
    { tracestate: 'q="quoted"\\', traceparent: TP },
    { k: 'replaces k', traceparent: TP },
    { '1': 'an integer-like name goes first', traceparent: TP },
    { 'quo"te': '\u2028line' },
  ];

  it.each(META_FRAMES)('%s', (text) => {
    const shape = scanShape(text);
    for (const members of MEMBER_SETS) {
      const expected = referenceWithMetaMembers(text, shape, members);
      expect(withMetaMembers(text, shape, members)).toBe(expected);
      if (expected !== undefined) expect(() => JSON.parse(expected)).not.toThrow();
    }
  });

  it('on generated frames', () => {
    for (const text of frames(1500)) {
      const shape = scanShape(text);
      if (shape.duplicate) continue; // refused before anything is spliced
      for (const members of MEMBER_SETS)
        expect(withMetaMembers(text, shape, members)).toBe(referenceWithMetaMembers(text, shape, members));
    }
  });

  it('reads only own members, as Object.entries did', () => {
    const members = Object.create({ inherited: 'no' }) as Record<string, string>;
    members.traceparent = TP;
    Object.defineProperty(members, 'hidden', { value: 'no', enumerable: false });
    const text = '{"id":1,"method":"m"}';
    expect(withMetaMembers(text, scanShape(text), members)).toBe(
      `{"id":1,"method":"m","params":{"_meta":{"traceparent":"${TP}"}}}`,
    );
  });
});
