import { Transform } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** One Server-Sent Event. */
export interface SseEvent {
  event?: string;
  data: string;
  id?: string;
}

/**
 * An incremental SSE parser: feed it chunks as they arrive, get whole events out. Lines may end in LF, CR or
 * CRLF; comments (`:`) are counted (see `takeComments`), `retry:` is dropped. `maxEventBytes` bounds one event so a hostile stream cannot
 * grow memory without end.
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event?: string;
  private id?: string;
  private size = 0;
  /** Comment lines seen since the last `takeComments()`: upstream keep-alives, which a relay passes on. */
  private comments = 0;

  takeComments(): number {
    const seen = this.comments;
    this.comments = 0;
    return seen;
  }

  constructor(private readonly maxEventBytes = 16 * 1024 * 1024) {}

  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const events: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const lf = this.buffer.indexOf('\n', start);
      const cr = this.buffer.indexOf('\r', start);
      const end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      if (end === -1) break;
      let next = end + 1;
      if (this.buffer[end] === '\r') {
        if (end + 1 >= this.buffer.length) break; // a CR at the end may be the first half of CRLF
        if (this.buffer[end + 1] === '\n') next = end + 2;
      }
      const line = this.buffer.slice(start, end);
      start = next;
      if (line === '') {
        if (this.data.length || this.event !== undefined) {
          events.push({ event: this.event, data: this.data.join('\n'), id: this.id });
        }
        this.data = [];
        this.event = undefined;
        this.size = 0;
        continue;
      }
      if (line.startsWith(':')) {
        this.comments++;
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') {
        this.size += value.length;
        if (this.size > this.maxEventBytes) throw new Error('an SSE event exceeds the size limit');
        this.data.push(value);
      } else if (field === 'event') this.event = value;
      else if (field === 'id' && !value.includes('\u0000')) this.id = value;
    }
    this.buffer = this.buffer.slice(start);
    if (this.buffer.length > this.maxEventBytes) throw new Error('an SSE line exceeds the size limit');
    return events;
  }
}

/** Serialises an event; multi-line data becomes several `data:` lines. */
export function formatSse(event: SseEvent): string {
  let out = '';
  if (event.event) out += `event: ${event.event}\n`;
  if (event.id !== undefined) out += `id: ${event.id}\n`;
  for (const line of event.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/**
 * An SSE stream rewritten event by event as events arrive: `rewrite` returns the event to send (the same, a
 * changed one) or undefined to drop it. Comments go on as `: keep-alive`; `retry:` lines are not passed on.
 */
export function sseRewriter(rewrite: (event: SseEvent) => SseEvent | undefined): Transform {
  const parser = new SseParser();
  const decoder = new StringDecoder('utf8');
  return new Transform({
    decodeStrings: false,
    transform(chunk: Buffer | string, _encoding, done) {
      try {
        let out = '';
        for (const event of parser.push(typeof chunk === 'string' ? chunk : decoder.write(chunk))) {
          const next = rewrite(event);
          if (next) out += formatSse(next);
        }
        // Keep-alive comments go on (one per chunk, after the whole events in it): a long tool call's stream must
        // not look idle to the client or to anything in between.
        if (parser.takeComments() > 0) out += ': keep-alive\n\n';
        done(null, out);
      } catch (error) {
        done(error as Error);
      }
    },
  });
}
