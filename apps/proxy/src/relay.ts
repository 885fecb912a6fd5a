import type { Readable, Writable } from 'node:stream';
import { isObject, isRpcId, namesRequestMethod } from '../../../libs/runtime/src/index.js';
import { ChildServer } from './child.js';
import type { ProxyConfig } from './config.js';
import { refusal, refusalLine } from './errors.js';
import { LineFramer, type OversizeFrame } from './jsonrpc/framer.js';
import { inspectClientFrame } from './jsonrpc/inspect-client-frame.js';
import type { ProxyLogger } from './logger.js';
import type { RequestOutcome, RequestPipeline } from './pipeline/request.js';
import type { ResponsePipeline } from './pipeline/response.js';
import { ServerFrames } from './pipeline/server-frames.js';
import type { Session } from './pipeline/session.js';
import { coalesce, forEachLine, Gate, SerialQueue } from './relay-io.js';

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
  refused: number;
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
  readonly stats: RelayStats = { clientFrames: 0, refused: 0 };
  private readonly clientFramer: LineFramer;
  private readonly serverFramer: LineFramer;
  private readonly queue: SerialQueue;
  private readonly server: ServerFrames;
  private inputGate!: Gate;
  private serverGate!: Gate;
  private inputEnded = false;
  private clientGone = false;
  private finished = false;
  /**
   * True while the relay handles a chunk that holds exactly one frame (one call at a time): its answer is written
   * at once instead of corked until the next tick, since there is nothing to coalesce it with.
   */
  private singleFrame = false;
  private escalation?: NodeJS.Timeout;
  private readonly signalHandlers = new Map<NodeJS.Signals, () => void>();
  private readonly clientFrame = (frame: Buffer, raw: Buffer) => this.onClientFrame(frame, raw);

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
    this.server = new ServerFrames(config, logger, session, responses);
    this.queue = new SerialQueue(
      MAX_QUEUED_FRAMES,
      (backlogged) => (backlogged ? this.inputGate.hold('queue') : this.inputGate.release('queue')),
      (error) => this.logger.error(`internal error on a client frame: ${error.message}`),
      () => this.inputEnded && this.closeServerInput(),
    );
    this.clientFramer = new LineFramer(
      config.maxFrameBytes,
      (frame, raw) => this.queue.run(this.clientFrame, frame, raw),
      (oversize) => this.queue.push(() => this.onClientOversize(oversize)),
    );
    this.serverFramer = new LineFramer(
      config.maxFrameBytes,
      (frame, raw) => {
        const lines = this.server.onFrame(frame, raw);
        if (lines.length > 1) this.singleFrame = false; // a batch unpacked: its lines go out in one write
        for (const line of lines) this.toClient(line);
        this.responses.recordAnswered(); // after the write: the audit record is off the answer's path
      },
      (oversize) => this.server.onOversize(oversize).forEach((line) => this.toClient(line)),
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
      this.singleFrame = isOneFrame(chunk);
      try {
        this.serverFramer.push(chunk);
      } finally {
        this.singleFrame = false;
      }
    });
    child.stdout!.on('end', () => this.serverFramer.end());
    this.pipeStderr();

    input.on('data', (chunk: Buffer) => {
      this.singleFrame = isOneFrame(chunk);
      try {
        this.clientFramer.push(chunk);
      } finally {
        this.singleFrame = false;
      }
    });
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

  private onClientFrame(frame: Buffer, raw: Buffer): void | Promise<void> {
    const inspected = inspectClientFrame(frame);
    if (inspected.kind === 'blank') return;
    this.stats.clientFrames++;
    switch (inspected.kind) {
      case 'refused':
        this.logger.warn(`refused a client frame: ${inspected.problem}`);
        if (inspected.answer) this.answer(inspected.answer);
        return;
      case 'batch':
        this.logger.warn(
          `refused a batch of ${inspected.count} message(s): MCP does not use JSON-RPC batches since 2025-06-18`,
        );
        if (inspected.answer) this.answer(inspected.answer);
        return;
      case 'response':
        this.toServer(raw);
        return;
      case 'notification':
        return this.onClientNotification(inspected.method, inspected.value, raw);
    }
    if (!this.child.running || this.finished) {
      this.answer(
        refusalLine(inspected.rawId, refusal('server_unavailable', 'the MCP server is not running')),
      );
      return;
    }
    const outcome = this.requests.handle({ ...inspected, raw });
    if (outcome instanceof Promise) return outcome.then((done) => this.apply(done));
    this.apply(outcome);
  }

  private apply(outcome: RequestOutcome): void {
    if ('forward' in outcome) {
      if (!this.child.running) {
        this.requests.remember(outcome);
        this.toClient(
          refusalLine(outcome.pending.rawId, refusal('server_unavailable', 'the MCP server exited')),
        );
        return;
      }
      // Written first, filed right after in this same turn: no answer can be read, and no client frame handled,
      // before the call and its replay payload are on record.
      this.toServer(outcome.forward);
      this.requests.remember(outcome);
      this.session.add(outcome.pending, outcome.key);
      return;
    }
    this.answer(refusalLine(outcome.rawId, outcome.refuse));
  }

  private onClientNotification(method: string, value: Record<string, unknown>, raw: Buffer): void {
    if (namesRequestMethod(method)) {
      // A request without an id: the client could never see its answer, and a lenient server might act on it
      // without any of the checks a request gets. Dropped.
      this.logger.warn(`dropped "${method}" sent without an id (only notifications/* may omit it)`);
      this.stats.refused++;
      return;
    }
    if (method === 'notifications/initialized') this.session.initialized = true;
    if (method === 'notifications/cancelled' && isObject(value.params) && isRpcId(value.params.requestId)) {
      this.responses.cancelled(value.params.requestId);
    }
    this.toServer(raw);
  }

  private onClientOversize(frame: OversizeFrame): void {
    this.stats.clientFrames++;
    this.logger.warn(
      `refused a client frame of more than ${this.config.maxFrameBytes} bytes${frame.method ? ` (${frame.method})` : ''}`,
    );
    if (frame.rawId !== undefined && frame.method !== undefined) {
      const message = `request larger than ${this.config.maxFrameBytes} bytes`;
      this.answer(refusalLine(frame.rawId, refusal('frame_too_large', message)));
    }
  }

  // --- server → client ------------------------------------------------------------------------------------

  /** The server's stderr, line by line, through the logger (which redacts credentials) to ours. */
  private pipeStderr(): void {
    forEachLine(this.child.process.stderr!, STDERR_LINE_MAX, (line) => this.logger.serverStderr(line));
  }

  // --- writing --------------------------------------------------------------------------------------------

  /** An answer the proxy makes instead of the server (a refusal). */
  private answer(line: Buffer): void {
    this.stats.refused++;
    this.toClient(line);
  }

  private toServer(frame: Buffer): void {
    const stdin = this.child.process.stdin!;
    if (!stdin.writable || !this.child.running) return;
    if (!this.singleFrame) coalesce(stdin);
    if (!stdin.write(frame)) {
      this.inputGate.hold('server');
      stdin.once('drain', () => this.inputGate.release('server'));
    }
  }

  private toClient(frame: Buffer): void {
    if (this.clientGone) return;
    if (!this.singleFrame) coalesce(this.io.output);
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
    if (this.queue.idle) this.closeServerInput();
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

/** A chunk that is one whole frame: its only newline is its last byte. */
function isOneFrame(chunk: Buffer): boolean {
  return chunk.length > 0 && chunk.indexOf(0x0a) === chunk.length - 1;
}
