import type { FastifyInstance } from 'fastify';

/** An error carrying the HTTP status the body reader wants (413 too large, 408 too slow). */
export class BodyError extends Error {
  constructor(
    readonly statusCode: 408 | 413,
    message: string,
  ) {
    super(message);
  }
}

/**
 * JSON bodies only (anything else is a 415), read with a size bound and a deadline: a client that trickles its
 * body (slowloris) gets a 408 after `timeoutMs` instead of holding a socket and a buffer open. The body stays
 * a Buffer: the relay parses it itself so it can answer malformed JSON with a JSON-RPC error.
 */
export function installBodyReader(app: FastifyInstance, maxBytes: number, timeoutMs: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', (_request, payload, done) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes)
        return finish(new BodyError(413, `the request body is larger than ${maxBytes} bytes`));
      chunks.push(chunk);
    };
    const finish = (error: Error | null, body?: Buffer) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      payload.off('data', onData);
      if (error) payload.resume();
      done(error, body);
    };
    const timer = setTimeout(
      () => finish(new BodyError(408, `the request body did not arrive within ${timeoutMs} ms`)),
      timeoutMs,
    );
    payload.on('data', onData);
    // A body of one chunk (what clients send) is that chunk: no copy.
    payload.on('end', () => finish(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    payload.on('error', (error) => finish(error));
  });
}
