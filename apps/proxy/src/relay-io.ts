import type { Readable, Writable } from 'node:stream';

/** Pauses a stream while any reason holds; resumes when the last one is released. */
export class Gate {
  private readonly reasons = new Set<string>();
  constructor(private readonly stream: Readable) {}
  hold(reason: string): void {
    this.reasons.add(reason);
    this.stream.pause();
  }
  release(reason: string): void {
    if (this.reasons.delete(reason) && this.reasons.size === 0) this.stream.resume();
  }
}

const corked = new WeakSet<Writable>();

/**
 * Frames written in one tick go out in one write (one syscall) instead of one each: under load this is most of
 * the proxy's CPU time. Ordering is unchanged; the stream is uncorked before any I/O callback can run.
 */
export function coalesce(stream: Writable): void {
  if (corked.has(stream)) return;
  corked.add(stream);
  stream.cork();
  process.nextTick(() => {
    corked.delete(stream);
    stream.uncork();
  });
}

/**
 * Runs tasks strictly in order: synchronous ones inline, and an asynchronous one holds every task behind it until
 * it settles. `onBacklog(true)` when more than `limit` wait (pause the source), `onBacklog(false)` when drained.
 */
export class SerialQueue {
  private readonly tasks: Array<() => void | Promise<void>> = [];
  private busy = false;

  constructor(
    private readonly limit: number,
    private readonly onBacklog: (backlogged: boolean) => void,
    private readonly onError: (error: Error) => void,
    private readonly onIdle: () => void,
  ) {}

  get idle(): boolean {
    return !this.busy && this.tasks.length === 0;
  }

  push(task: () => void | Promise<void>): void {
    this.tasks.push(task);
    if (this.tasks.length > this.limit) this.onBacklog(true);
    if (!this.busy) this.drain();
  }

  /**
   * `task(a, b)` in order: at once when nothing is queued or running (no closure per call on the common path),
   * else behind the rest, as `push` would.
   */
  run<A, B>(task: (a: A, b: B) => void | Promise<void>, a: A, b: B): void {
    if (this.busy || this.tasks.length > 0) {
      this.push(() => task(a, b));
      return;
    }
    let result: void | Promise<void>;
    try {
      result = task(a, b);
    } catch (error) {
      this.onError(error as Error);
      result = undefined;
    }
    if (result instanceof Promise) {
      this.busy = true;
      this.resume(result);
      return;
    }
    this.onIdle();
  }

  private resume(result: Promise<void>): void {
    result
      .catch((error: Error) => this.onError(error))
      .finally(() => {
        this.busy = false;
        this.drain();
      });
  }

  private drain(): void {
    while (this.tasks.length > 0) {
      const task = this.tasks.shift()!;
      let result: void | Promise<void>;
      try {
        result = task();
      } catch (error) {
        this.onError(error as Error);
        continue;
      }
      if (result instanceof Promise) {
        this.busy = true;
        this.resume(result);
        return;
      }
    }
    this.onBacklog(false);
    this.onIdle();
  }
}

/** Calls `onLine` for each line of a text stream; a line longer than `max` is passed on in pieces. */
export function forEachLine(stream: Readable, max: number, onLine: (line: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      onLine(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
    }
    if (pending.length > max) {
      onLine(pending);
      pending = '';
    }
  });
  stream.on('end', () => pending && onLine(pending));
}
