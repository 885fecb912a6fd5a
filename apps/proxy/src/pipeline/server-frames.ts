import {
  idKey,
  isBlank,
  isObject,
  isRpcId,
  parseMessage as parseFrame,
} from '../../../../libs/runtime/src/index.js';
import type { ProxyConfig } from '../config.js';
import { refusal, refusalLine } from '../errors.js';
import type { OversizeFrame } from '../jsonrpc/framer.js';
import type { ProxyLogger } from '../logger.js';
import type { ResponsePipeline } from './response.js';
import type { Session } from './session.js';

/**
 * Frames from the server's stdout, before the response pipeline sees them. stdout is for the protocol, so a line
 * that is not JSON-RPC (a log line printed to the wrong stream) is dropped and counted, never passed to the
 * client. A batch is unpacked and each message checked and sent on its own line. A response over the frame limit
 * becomes an error for the request it answers. Returns what to send to the client.
 */
export class ServerFrames {
  frames = 0;
  dropped = 0;

  constructor(
    private readonly config: ProxyConfig,
    private readonly logger: ProxyLogger,
    private readonly session: Session,
    private readonly responses: ResponsePipeline,
  ) {}

  onFrame(frame: Buffer, raw: Buffer): Buffer[] {
    if (isBlank(frame)) return [];
    this.frames++;
    const parsed = parseFrame(frame);
    if (parsed.kind !== 'json') {
      this.drop(
        `a line that is not ${parsed.kind === 'not-utf8' ? 'valid UTF-8' : 'JSON'} (${frame.length} bytes)`,
      );
      return [];
    }
    if (Array.isArray(parsed.value)) {
      const out: Buffer[] = [];
      for (const item of parsed.value) {
        if (!isObject(item)) continue;
        const text = JSON.stringify(item);
        out.push(...this.message(item, text, Buffer.from(`${text}\n`)));
      }
      return out;
    }
    if (!isObject(parsed.value)) {
      this.drop('a JSON value that is not a JSON-RPC message');
      return [];
    }
    return this.message(parsed.value, parsed.text, raw);
  }

  onOversize(frame: OversizeFrame): Buffer[] {
    this.frames++;
    const limit = this.config.maxFrameBytes;
    if (frame.rawId !== undefined && frame.method === undefined) {
      const id: unknown = JSON.parse(frame.rawId);
      const call = isRpcId(id) ? this.session.take(idKey(id)) : undefined;
      if (call && !call.internal) {
        this.logger.warn(`the server's answer to ${call.method} is larger than ${limit} bytes: refused`);
        this.responses.failed(call, 'response_too_large');
        const refused = refusal('frame_too_large', `the server's response is larger than ${limit} bytes`, {
          trace_id: call.trace.traceId,
        });
        return [refusalLine(call.rawId, refused)];
      }
      call?.internal?.reject(new Error('response too large'));
    }
    this.drop(`a frame of more than ${limit} bytes`);
    return [];
  }

  private message(message: Record<string, unknown>, text: string, raw: Buffer): Buffer[] {
    try {
      const out = this.responses.handle({ message, text, raw });
      return out ? [out] : [];
    } catch (error) {
      this.logger.error(`internal error on a server frame: ${(error as Error).message}`);
      return [];
    }
  }

  private drop(what: string): void {
    const n = ++this.dropped;
    if (n <= 5 || n % 1000 === 0) {
      this.logger.warn(`dropped ${what} from the server's stdout (${n} so far): stdout is for the protocol`);
    }
  }
}
