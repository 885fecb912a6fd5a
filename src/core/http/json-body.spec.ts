import { describe, expect, it } from '@jest/globals';
import Fastify from 'fastify';
import {
  installJsonBodyParser,
  MAX_JSON_ARRAY_LENGTH,
  MAX_JSON_DEPTH,
  MAX_JSON_VALUES,
} from './json-body.js';

describe('installJsonBodyParser', () => {
  const app = Fastify();
  installJsonBodyParser(app);
  app.post('/', async (request) => ({ got: request.body }));

  const post = (payload: string, contentType = 'application/json') =>
    app.inject({ method: 'POST', url: '/', payload, headers: { 'content-type': contentType } });

  it('parses JSON up to the depth limit', async () => {
    const nested = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    expect((await post(nested)).statusCode).toBe(200);
  });

  it('refuses one level deeper, and objects as well as arrays', async () => {
    const depth = MAX_JSON_DEPTH + 1;
    expect((await post('['.repeat(depth) + ']'.repeat(depth))).statusCode).toBe(400);
    expect((await post('{"a":'.repeat(depth) + '1' + '}'.repeat(depth))).statusCode).toBe(400);
  });

  it('refuses prototype poisoning', async () => {
    expect((await post('{"__proto__":{"x":1}}')).statusCode).toBe(400);
  });

  it('has no form or text parsers', async () => {
    expect((await post('a=1', 'application/x-www-form-urlencoded')).statusCode).toBe(415);
    expect((await post('hello', 'text/plain')).statusCode).toBe(415);
  });
});

describe('installJsonBodyParser: encoding', () => {
  const app = Fastify();
  installJsonBodyParser(app);
  app.post('/', async (request) => ({ got: request.body }));

  it('refuses invalid UTF-8 instead of substituting U+FFFD', async () => {
    const payload = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const res = await app.inject({
      method: 'POST',
      url: '/',
      payload,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
  });

  it('accepts real UTF-8', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/',
      payload: Buffer.from('{"a":"héllo ✓"}'),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.json()).toEqual({ got: { a: 'héllo ✓' } });
  });

  it.each([['{"a":"x\\u0000y"}'], ['{"x\\u0000":1}'], ['[["\\u0000"]]']])(
    'refuses NUL characters: %s',
    async (body) => {
      const res = await app.inject({
        method: 'POST',
        url: '/',
        payload: body,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.statusCode).toBe(400);
    },
  );
});

describe('installJsonBodyParser: size of the value tree', () => {
  const app = Fastify({ bodyLimit: 8 * 1024 * 1024 });
  installJsonBodyParser(app);
  app.post('/', async () => ({ ok: true }));
  const post = (payload: string) =>
    app.inject({ method: 'POST', url: '/', payload, headers: { 'content-type': 'application/json' } });

  it('refuses an array longer than the limit, naming it', async () => {
    const res = await post(JSON.stringify({ a: { b: new Array(MAX_JSON_ARRAY_LENGTH + 1).fill(0) } }));
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain('a.b has more than');
  });

  it('refuses too many values spread over short arrays', async () => {
    const row = new Array(MAX_JSON_ARRAY_LENGTH).fill(1);
    const res = await post(
      JSON.stringify(new Array(Math.ceil(MAX_JSON_VALUES / MAX_JSON_ARRAY_LENGTH) + 1).fill(row)),
    );
    expect(res.statusCode).toBe(400);
  });

  it('accepts a large but reasonable body', async () => {
    expect(
      (await post(JSON.stringify({ rows: new Array(MAX_JSON_ARRAY_LENGTH).fill({ a: 1, b: 'x' }) })))
        .statusCode,
    ).toBe(200);
  });
});
