/** What could be read from a frame too large to keep: the top-level `id` and `method`, if they were short. */
export interface OversizeFrame {
  readonly bytes: number;
  /** The id exactly as written (JSON text), when it was a top-level member of an object. */
  readonly rawId?: string;
  readonly method?: string;
  readonly batch: boolean;
}

/**
 * Splits a byte stream into newline-delimited frames with bounded memory. A frame longer than `maxFrameBytes`
 * is never buffered: its bytes are streamed through an `OversizeScanner` (constant memory) until its newline,
 * and reported with whatever id and method it carried, so the caller can answer it instead of hanging the client.
 * Frames are handed over as `(frame, raw)`: the bytes without the newline, and the exact bytes to forward.
 */
export class LineFramer {
  private chunks: Buffer[] = [];
  private size = 0;
  private oversize: OversizeScanner | null = null;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly onFrame: (frame: Buffer, raw: Buffer) => void,
    private readonly onOversize: (frame: OversizeFrame) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline < 0 ? chunk.length : newline;
      if (this.oversize) {
        this.oversize.feed(chunk.subarray(start, end));
        if (newline < 0) return;
        const done = this.oversize;
        this.oversize = null;
        this.onOversize(done.result());
        start = newline + 1;
        continue;
      }
      if (this.size + (end - start) > this.maxFrameBytes) {
        this.oversize = new OversizeScanner();
        for (const buffered of this.chunks) this.oversize.feed(buffered);
        this.chunks = [];
        this.size = 0;
        continue; // the same bytes, now through the scanner
      }
      if (newline < 0) {
        this.chunks.push(chunk.subarray(start));
        this.size += chunk.length - start;
        return;
      }
      let frame: Buffer;
      let raw: Buffer;
      if (this.size === 0) {
        frame = chunk.subarray(start, newline);
        raw = chunk.subarray(start, newline + 1);
      } else {
        raw = Buffer.concat([...this.chunks, chunk.subarray(start, newline + 1)]);
        frame = raw.subarray(0, raw.length - 1);
        this.chunks = [];
        this.size = 0;
      }
      start = newline + 1;
      this.onFrame(frame, raw);
    }
  }

  /** End of stream: a last frame without a newline still counts. */
  end(): void {
    if (this.oversize) {
      const done = this.oversize;
      this.oversize = null;
      this.onOversize(done.result());
      return;
    }
    if (this.size > 0) {
      const frame = Buffer.concat(this.chunks);
      this.chunks = [];
      this.size = 0;
      this.onFrame(frame, Buffer.concat([frame, Buffer.from('\n')]));
    }
  }

  /** Bytes held for an incomplete frame (bounded by maxFrameBytes). */
  get buffered(): number {
    return this.size;
  }
}

const CAPTURE_LIMIT = 256;

/**
 * Reads the top-level `id` and `method` of a JSON object streamed through it byte by byte, in constant memory.
 * UTF-8 continuation bytes are never structural, so a byte-wise scan is exact.
 */
export class OversizeScanner {
  private bytes = 0;
  private depth = 0;
  private inString = false;
  private escape = false;
  private started = false;
  private batch = false;
  private phase: 'key' | 'colon' | 'value' = 'key';
  private key: number[] | null = null;
  private currentKey = '';
  private capture: number[] | null = null;
  private captureOverflow = false;
  private captured = new Map<string, string>();

  feed(chunk: Buffer): void {
    this.bytes += chunk.length;
    for (let i = 0; i < chunk.length; i++) this.step(chunk[i]);
  }

  private step(b: number): void {
    if (!this.started) {
      if (b === 0x20 || b === 0x09 || b === 0x0d) return;
      this.started = true;
      if (b === 0x5b) this.batch = true;
    }
    if (
      this.capture &&
      this.depth >= 1 &&
      !(this.depth === 1 && !this.inString && (b === 0x2c || b === 0x7d))
    ) {
      if (this.capture.length < CAPTURE_LIMIT) this.capture.push(b);
      else this.captureOverflow = true;
    }
    if (this.inString) {
      if (this.key && this.depth === 1 && b !== 0x22 && this.key.length < 64) this.key.push(b);
      if (this.escape) this.escape = false;
      else if (b === 0x5c) this.escape = true;
      else if (b === 0x22) {
        this.inString = false;
        if (this.key && this.depth === 1) {
          this.currentKey = Buffer.from(this.key).toString('utf8');
          this.key = null;
          this.phase = 'colon';
        }
      }
      return;
    }
    if (b === 0x22) {
      this.inString = true;
      if (this.depth === 1 && this.phase === 'key') this.key = [];
      return;
    }
    if (b === 0x7b || b === 0x5b) {
      this.depth++;
      return;
    }
    if (b === 0x7d || b === 0x5d) {
      if (this.depth === 1) this.endValue();
      this.depth--;
      return;
    }
    if (this.depth !== 1 || this.batch) return;
    if (b === 0x3a && this.phase === 'colon') {
      this.phase = 'value';
      if (this.currentKey === 'id' || this.currentKey === 'method') {
        this.capture = [];
        this.captureOverflow = false;
      }
    } else if (b === 0x2c) {
      this.endValue();
      this.phase = 'key';
    }
  }

  private endValue(): void {
    if (this.capture && !this.captureOverflow) {
      this.captured.set(this.currentKey, Buffer.from(this.capture).toString('utf8').trim());
    }
    this.capture = null;
  }

  result(): OversizeFrame {
    let rawId: string | undefined;
    let method: string | undefined;
    const id = this.captured.get('id');
    if (id !== undefined) {
      try {
        const parsed: unknown = JSON.parse(id);
        if (typeof parsed === 'string' || (typeof parsed === 'number' && Number.isFinite(parsed))) rawId = id;
      } catch {
        // not a usable id
      }
    }
    const rawMethod = this.captured.get('method');
    if (rawMethod !== undefined) {
      try {
        const parsed: unknown = JSON.parse(rawMethod);
        if (typeof parsed === 'string') method = parsed;
      } catch {
        // not a usable method
      }
    }
    return { bytes: this.bytes, rawId, method, batch: this.batch };
  }
}
