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

/** One pending deadline of {@link Deadlines}: a node of its list, in the order they fall due. */
export interface Deadline {
  readonly due: number;
  readonly fire: () => void;
  prev: Deadline | undefined;
  next: Deadline | undefined;
  done: boolean;
}

/**
 * Deadlines of one length (the body reader's), served by one timer. Set in order, they fall due in that order: a
 * list in due order and one timer armed for its head do what a `setTimeout` per request did (which cost a
 * `Timeout` object, an async id and the timer list's insert and unenroll per request, and at one request at a
 * time a list made and dropped per request). A deadline fires no earlier than `ms` after it was set, as a
 * timer's does; the timer is unref'd (the socket whose body is awaited keeps the process alive).
 */
export class Deadlines {
  private head: Deadline | undefined;
  private tail: Deadline | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly ms: number,
    private readonly now: () => number = performance.now.bind(performance),
  ) {}

  /** Calls `fire` once, `ms` from now, unless cancelled before. */
  add(fire: () => void): Deadline {
    const deadline: Deadline = {
      due: this.now() + this.ms,
      fire,
      prev: this.tail,
      next: undefined,
      done: false,
    };
    if (this.tail) this.tail.next = deadline;
    else this.head = deadline;
    this.tail = deadline;
    if (!this.timer) this.arm(this.ms);
    return deadline;
  }

  /** Cancels a deadline that has not fired (a no-op once it has fired or been cancelled). */
  cancel(deadline: Deadline): void {
    if (deadline.done) return;
    deadline.done = true;
    if (deadline.prev) deadline.prev.next = deadline.next;
    else this.head = deadline.next;
    if (deadline.next) deadline.next.prev = deadline.prev;
    else this.tail = deadline.prev;
    deadline.prev = deadline.next = undefined;
  }

  // The timer stays armed when the list empties: it fires once, finds nothing due and is not armed again.
  private arm(delay: number): void {
    // Replaced, not doubled, when a deadline's `fire` set another (that armed a timer while this one expired).
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(this.expire, delay);
    this.timer.unref();
  }

  private readonly expire = (): void => {
    this.timer = undefined;
    const now = this.now();
    for (let next = this.head; next; next = this.head) {
      // The loop's clock is whole milliseconds: a timer may run a fraction early, and then waits the rest.
      if (next.due > now) return this.arm(next.due - now);
      this.cancel(next);
      next.fire();
    }
  };
}

/**
 * JSON bodies only (anything else is a 415), read with a size bound and a deadline: a client that trickles its
 * body (slowloris) gets a 408 after `timeoutMs` instead of holding a socket and a buffer open. The body stays
 * a Buffer: the relay parses it itself so it can answer malformed JSON with a JSON-RPC error.
 */
export function installBodyReader(app: FastifyInstance, maxBytes: number, timeoutMs: number): void {
  const deadlines = new Deadlines(timeoutMs);
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
      deadlines.cancel(deadline);
      // After `end` no data comes; a refused body is drained without keeping its chunks.
      if (error) {
        payload.off('data', onData);
        payload.resume();
      }
      done(error, body);
    };
    const deadline = deadlines.add(() =>
      finish(new BodyError(408, `the request body did not arrive within ${timeoutMs} ms`)),
    );
    payload.on('data', onData);
    // A body of one chunk (what clients send) is that chunk: no copy.
    payload.on('end', () => finish(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    payload.on('error', (error) => finish(error));
  });
}
