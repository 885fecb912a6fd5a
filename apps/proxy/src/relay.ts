import type { Readable, Writable } from 'node:stream';
import { ChildServer } from './child.js';
import type { ProxyConfig } from './config.js';
import { errorLine, PROXY_ERROR_CODES, refusal, refusalLine } from './errors.js';
import { classify, parseFrame } from './jsonrpc/classify.js';
import { LineFramer, type OversizeFrame } from './jsonrpc/framer.js';
import { idKey, isRpcId } from './jsonrpc/ids.js';
import { scanShape } from './jsonrpc/shape.js';
import type { ProxyLogger } from './logger.js';
import { isObject, type RequestOutcome, type RequestPipeline } from './pipeline/request.js';
import type { ResponsePipeline } from './pipeline/response.js';
import type { Session } from './pipeline/session.js';

/** Deepest nesting accepted in a client frame (JSON.stringify and most parsers recurse). */
export const MAX_CLIENT_DEPTH = 128;
const MAX_QUEUED_FRAMES = 1_000;
const STDERR_LINE_MAX = 16 * 1024;

export interface RelayIo {
  /** What the MCP client writes (our stdin). */
  readonly input: Readable;
  /** What the MCP client reads (our stdout): protocol frames only. */
  readonly output: Writable;
}

export interface RelayStats {
  clientFrames: number;
  serverFrames: number;
  refused: number;
  droppedFromServer: number;
}

/** Pauses a stream while any reason holds; resumes when the last one is released. */
class Gate {
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

/**
 * Moves newline-delimited JSON-RPC between the client (stdin/stdout) and the server (the child's stdio).
 *
 * Guarantees: stdout carries protocol frames only; a frame the proxy does not change is forwarded byte for byte;
 * client frames are handled strictly in order (an asynchronous check holds the frames behind it); memory is
 * bounded (frame size, queued frames, backpressure both ways); every client request gets exactly one answer (the
 * server's, or a JSON-RPC error from the proxy, including when the server dies mid-call); malformed input is
 * reported and answered, never allowed to crash the relay. Resolves with the server's exit status.
 */
export class Relay {
  readonly stats: RelayStats = { clientFrames: 0, serverFrames: 0, refused: 0, droppedFromServer: 0 };
  private readonly clientFramer: LineFramer;
  private readonly serverFramer: LineFramer;
  private readonly queue: Array<() => void | Promise<void>> = [];
  private busy = false;
  private inputGate!: Gate;
  private serverGate!: Gate;
  private inputEnded = false;
  private clientGone = false;
  private finished = false;
  private escalation?: NodeJS.Timeout;
  private readonly signalHandlers = new Map<NodeJS.Signals, () => void>();

  constructor(
    private readonly config: ProxyConfig,
    private readonly logger: ProxyLogger,
    private readonly session: Session,
    private readonly requests: RequestPipeline,
    private readonly responses: ResponsePipeline,
    private readonly child: ChildServer,
    private readonly io: RelayIo,
    private readonly onStart?: () => void,
  ) {
    this.clientFramer = new LineFramer(
      config.maxFrameBytes,
      (frame, raw) => this.enqueue(() => this.onClientFrame(frame, raw)),
      (oversize) => this.enqueue(() => this.onClientOversize(oversize)),
    );
    this.serverFramer = new LineFramer(
      config.maxFrameBytes,
      (frame, raw) => this.onServerFrame(frame, raw),
      (oversize) => this.onServerOversize(oversize),
    );
  }

  run(): Promise<number> {
    const { input, output } = this.io;
    const child = this.child.process;
    this.inputGate = new Gate(input);
    this.serverGate = new Gate(child.stdout!);
    this.session.writeToServer = (frame) => this.toServer(frame);

    child.stdin!.on('error', () => undefined); // EPIPE once the server is gone: its exit is handled below
    child.stdout!.on('data', (chunk: Buffer) => {
      this.serverFramer.push(chunk);
    });
    child.stdout!.on('end', () => this.serverFramer.end());
    this.pipeStderr();

    input.on('data', (chunk: Buffer) => this.clientFramer.push(chunk));
    input.on('end', () => this.onInputEnd());
    input.on('error', () => this.onInputEnd());
    output.on('error', () => {
      this.clientGone = true;
      this.onInputEnd();
    });
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      const handler = () => this.forwardSignal(signal);
      this.signalHandlers.set(signal, handler);
      process.on(signal, handler);
    }
    this.onStart?.();
    return this.waitForServer();
  }

  // --- client → server ------------------------------------------------------------------------------------

  /** Runs client frame handlers strictly in order; synchronous ones inline, asynchronous ones hold the rest. */
  private enqueue(task: () => void | Promise<void>): void {
    this.queue.push(task);
    if (this.queue.length > MAX_QUEUED_FRAMES) this.inputGate.hold('queue');
    if (!this.busy) this.drain();
  }

  private drain(): void {
    while (this.queue.length > 0) {
      const task = this.queue.shift()!;
      let result: void | Promise<void>;
      try {
        result = task();
      } catch (error) {
        this.logger.error(`internal error on a client frame: ${(error as Error).message}`);
        continue;
      }
      if (result instanceof Promise) {
        this.busy = true;
        result
          .catch((error: Error) => this.logger.error(`internal error on a client frame: ${error.message}`))
          .finally(() => {
            this.busy = false;
            this.drain();
          });
        return;
      }
    }
    this.inputGate.release('queue');
    if (this.inputEnded) this.closeServerInput();
  }

  private onClientFrame(frame: Buffer, raw: Buffer): void | Promise<void> {
    if (isBlank(frame)) return;
    this.stats.clientFrames++;
    const parsed = parseFrame(frame);
    if (parsed.kind !== 'json') {
      const rawId = parsed.kind === 'not-utf8' ? requestIdOf(parsed.text) : undefined;
      this.logger.warn(
        `refused a client frame that is not ${parsed.kind === 'not-utf8' ? 'valid UTF-8' : 'JSON'} (${frame.length} bytes)`,
      );
      if (parsed.kind === 'not-utf8' && rawId) {
        this.answer(
          rawId,
          PROXY_ERROR_CODES.invalid_request,
          'Invalid Request: the frame is not valid UTF-8',
        );
      } else this.answer(null, PROXY_ERROR_CODES.parse_error, 'Parse error: the frame is not JSON');
      return;
    }
    const value = parsed.value;
    if (Array.isArray(value)) return this.refuseBatch(value);
    if (!isObject(value)) {
      this.answer(null, PROXY_ERROR_CODES.invalid_request, 'Invalid Request: not a JSON-RPC object');
      return;
    }
    const shape = scanShape(parsed.text);
    const idSpan = shape.root.get('id');
    const rawId = idSpan && isRpcId(value.id) ? parsed.text.slice(idSpan.start, idSpan.end) : undefined;
    const kind = classify(value);
    const problem =
      shape.depth > MAX_CLIENT_DEPTH
        ? `nesting deeper than ${MAX_CLIENT_DEPTH} levels`
        : shape.duplicate
          ? `duplicate member "${shape.duplicate.key}" in ${shape.duplicate.at} (parsers disagree on which one counts)`
          : kind.kind === 'invalid'
            ? kind.reason
            : undefined;
    if (problem) {
      this.logger.warn(`refused a client frame: ${problem}`);
      if ('method' in value || kind.kind === 'request') {
        if (rawId || 'id' in value)
          this.answer(rawId ?? null, PROXY_ERROR_CODES.invalid_request, `Invalid Request: ${problem}`);
      }
      return;
    }
    if (kind.kind === 'response') {
      this.toServer(raw); // the client answering a server request (sampling, elicitation, roots)
      return;
    }
    if (kind.kind === 'notification') return this.onClientNotification(kind.method, value, raw);
    if (kind.kind !== 'request') return;
    if (!this.child.running || this.finished) {
      this.answer(rawId!, PROXY_ERROR_CODES.server_unavailable, 'the MCP server is not running', {
        reason_code: 'server_unavailable',
        reason: 'the MCP server is not running',
      });
      return;
    }
    const outcome = this.requests.handle({
      id: kind.id,
      rawId: rawId!,
      method: kind.method,
      params: value.params,
      text: parsed.text,
      raw,
      shape,
    });
    if (outcome instanceof Promise) return outcome.then((done) => this.apply(done));
    this.apply(outcome);
  }

  private apply(outcome: RequestOutcome): void {
    if ('forward' in outcome) {
      if (!this.child.running) {
        this.toClient(
          refusalLine(outcome.pending.rawId, refusal('server_unavailable', 'the MCP server exited')),
        );
        return;
      }
      this.session.add(outcome.pending);
      this.toServer(outcome.forward);
      return;
    }
    this.stats.refused++;
    this.toClient(refusalLine(outcome.rawId, outcome.refuse));
  }

  private onClientNotification(method: string, value: Record<string, unknown>, raw: Buffer): void {
    if (!method.startsWith('notifications/')) {
      // A request without an id: the client could never see its answer, and a lenient server might act on it
      // without any of the checks a request gets. Dropped.
      this.logger.warn(`dropped "${method}" sent without an id (only notifications/* may omit it)`);
      this.stats.refused++;
      return;
    }
    if (method === 'notifications/initialized') this.session.initialized = true;
    if (method === 'notifications/cancelled' && isObject(value.params) && isRpcId(value.params.requestId)) {
      this.session.cancel(value.params.requestId);
    }
    this.toServer(raw);
  }

  private refuseBatch(items: unknown[]): void {
    this.logger.warn(
      `refused a batch of ${items.length} message(s): MCP does not use JSON-RPC batches since 2025-06-18`,
    );
    const answers = items
      .filter(
        (item): item is Record<string, unknown> => isObject(item) && 'method' in item && isRpcId(item.id),
      )
      .map((item) => ({
        jsonrpc: '2.0',
        id: item.id,
        error: {
          code: PROXY_ERROR_CODES.invalid_request,
          message: 'Invalid Request: batches are not supported',
        },
      }));
    if (items.length === 0)
      this.answer(null, PROXY_ERROR_CODES.invalid_request, 'Invalid Request: empty batch');
    else if (answers.length > 0) this.toClient(Buffer.from(`${JSON.stringify(answers)}\n`));
  }

  private onClientOversize(frame: OversizeFrame): void {
    this.stats.clientFrames++;
    this.logger.warn(
      `refused a client frame of more than ${this.config.maxFrameBytes} bytes${frame.method ? ` (${frame.method})` : ''}`,
    );
    if (frame.rawId !== undefined && frame.method !== undefined) {
      this.answer(
        frame.rawId,
        PROXY_ERROR_CODES.frame_too_large,
        `request larger than ${this.config.maxFrameBytes} bytes`,
        {
          reason_code: 'frame_too_large',
          reason: `request larger than ${this.config.maxFrameBytes} bytes`,
        },
      );
    }
  }

  // --- server → client ------------------------------------------------------------------------------------

  private onServerFrame(frame: Buffer, raw: Buffer): void {
    if (isBlank(frame)) return;
    this.stats.serverFrames++;
    const parsed = parseFrame(frame);
    if (parsed.kind !== 'json') {
      this.dropFromServer(
        `a line that is not ${parsed.kind === 'not-utf8' ? 'valid UTF-8' : 'JSON'} (${frame.length} bytes)`,
      );
      return;
    }
    if (Array.isArray(parsed.value)) {
      // Batches from the server: each message is checked and sent on its own line.
      for (const item of parsed.value) {
        if (!isObject(item)) continue;
        const text = JSON.stringify(item);
        this.fromServer(item, text, Buffer.from(`${text}\n`));
      }
      return;
    }
    if (!isObject(parsed.value)) {
      this.dropFromServer('a JSON value that is not a JSON-RPC message');
      return;
    }
    this.fromServer(parsed.value, parsed.text, raw);
  }

  private fromServer(message: Record<string, unknown>, text: string, raw: Buffer): void {
    try {
      const out = this.responses.handle({ message, text, raw });
      if (out) this.toClient(out);
    } catch (error) {
      this.logger.error(`internal error on a server frame: ${(error as Error).message}`);
    }
  }

  private onServerOversize(frame: OversizeFrame): void {
    this.stats.serverFrames++;
    if (frame.rawId !== undefined && frame.method === undefined) {
      const id: unknown = JSON.parse(frame.rawId);
      const call = isRpcId(id) ? this.session.take(idKey(id)) : undefined;
      if (call && !call.internal) {
        this.logger.warn(
          `the server's answer to ${call.method} is larger than ${this.config.maxFrameBytes} bytes: refused`,
        );
        this.toClient(
          refusalLine(
            call.rawId,
            refusal(
              'frame_too_large',
              `the server's response is larger than ${this.config.maxFrameBytes} bytes`,
              { trace_id: call.trace.traceId },
            ),
          ),
        );
        return;
      }
      call?.internal?.reject(new Error('response too large'));
    }
    this.dropFromServer(`a frame of more than ${this.config.maxFrameBytes} bytes`);
  }

  private dropFromServer(what: string): void {
    this.stats.droppedFromServer++;
    const n = this.stats.droppedFromServer;
    if (n <= 5 || n % 1000 === 0)
      this.logger.warn(`dropped ${what} from the server's stdout (${n} so far): stdout is for the protocol`);
  }

  private pipeStderr(): void {
    let pending = '';
    const stderr = this.child.process.stderr!;
    stderr.setEncoding('utf8');
    stderr.on('data', (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        this.logger.serverStderr(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
      if (pending.length > STDERR_LINE_MAX) {
        this.logger.serverStderr(pending);
        pending = '';
      }
    });
    stderr.on('end', () => pending && this.logger.serverStderr(pending));
  }

  // --- writing --------------------------------------------------------------------------------------------

  private answer(rawId: string | null, code: number, message: string, data?: unknown): void {
    this.stats.refused++;
    this.toClient(errorLine(rawId, code, message, data));
  }

  private toServer(frame: Buffer): void {
    const stdin = this.child.process.stdin!;
    if (!stdin.writable || !this.child.running) return;
    coalesce(stdin);
    if (!stdin.write(frame)) {
      this.inputGate.hold('server');
      stdin.once('drain', () => this.inputGate.release('server'));
    }
  }

  private toClient(frame: Buffer): void {
    if (this.clientGone) return;
    coalesce(this.io.output);
    if (!this.io.output.write(frame)) {
      this.serverGate.hold('client');
      this.inputGate.hold('client');
      this.io.output.once('drain', () => {
        this.serverGate.release('client');
        this.inputGate.release('client');
      });
    }
  }

  // --- lifecycle ------------------------------------------------------------------------------------------

  private onInputEnd(): void {
    if (this.inputEnded) return;
    this.inputEnded = true;
    this.clientFramer.end();
    if (!this.busy && this.queue.length === 0) this.closeServerInput();
  }

  /** The client is done: pass EOF on, then give the server a grace period before SIGTERM, then SIGKILL. */
  private closeServerInput(): void {
    const stdin = this.child.process.stdin!;
    if (stdin.writableEnded) return;
    stdin.end();
    const grace = this.config.shutdownGraceMs;
    const term = setTimeout(() => {
      this.child.signal('SIGTERM');
      const kill = setTimeout(() => this.child.signal('SIGKILL'), grace);
      kill.unref();
    }, grace);
    term.unref();
  }

  private forwardSignal(signal: NodeJS.Signals): void {
    this.logger.info(`received ${signal}: passing it to the MCP server`);
    this.child.signal(signal);
    this.escalation ??= setTimeout(() => {
      this.logger.warn('the MCP server did not exit within 5s of the signal: killing it');
      this.child.signal('SIGKILL');
    }, 5_000);
    this.escalation.unref();
  }

  private async waitForServer(): Promise<number> {
    const exit = await this.child.exited;
    // Read what the server wrote before it died (bounded wait: a grandchild may hold the pipe open).
    await Promise.race([this.child.closed, new Promise((resolve) => setTimeout(resolve, 1_000))]);
    this.serverFramer.end();
    this.finished = true;
    const code = ChildServer.exitCode(exit);
    const reason = `the MCP server exited (${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`}) before answering`;
    const orphans = this.responses.orphaned(reason);
    for (const line of orphans) this.toClient(line);
    if (orphans.length > 0)
      this.logger.warn(`answered ${orphans.length} request(s) left pending when the MCP server exited`);
    if (this.escalation) clearTimeout(this.escalation);
    for (const [signal, handler] of this.signalHandlers) process.off(signal, handler);
    this.io.input.pause();
    this.io.input.removeAllListeners('data');
    await new Promise<void>((resolve) =>
      this.clientGone ? resolve() : this.io.output.write('', () => resolve()),
    );
    return code;
  }
}

const corked = new WeakSet<Writable>();

/**
 * Frames written in one tick go out in one write (one syscall) instead of one each: under load this is most of
 * the proxy's CPU time. Ordering is unchanged; the stream is uncorked before any I/O callback can run.
 */
function coalesce(stream: Writable): void {
  if (corked.has(stream)) return;
  corked.add(stream);
  stream.cork();
  process.nextTick(() => {
    corked.delete(stream);
    stream.uncork();
  });
}

function isBlank(frame: Buffer): boolean {
  for (const byte of frame) if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return false;
  return true;
}

/** The id of a frame that failed strict decoding, if the lenient decoding still shows a request. */
function requestIdOf(text: string): string | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (isObject(value) && typeof value.method === 'string' && isRpcId(value.id)) {
      const span = scanShape(text).root.get('id');
      return span ? text.slice(span.start, span.end) : JSON.stringify(value.id);
    }
  } catch {
    // not JSON either
  }
  return undefined;
}
