import type { Upstream } from '../upstreams/upstream.js';
import { errorResponse, ERROR_CODES, type JsonRpcResponse } from '../../../../libs/runtime/src/index.js';
import { SseParser } from './sse.js';
import { UpstreamUnavailableError, type UpstreamClient } from './upstream-client.js';

type Message = Record<string, unknown>;

/**
 * A stateful connection to one upstream, for the paths that need the gateway to hold state: the legacy SSE
 * front door (the client holds an SSE stream to this replica) and streamable HTTP clients of legacy SSE
 * upstreams. Messages from the upstream arrive through `onmessage`, in order, as they are parsed.
 */
export interface UpstreamChannel {
  onmessage?: (message: Message) => void;
  onclose?: (reason: string) => void;
  /** Delivers a message; rejects with `UpstreamUnavailableError` when the upstream cannot take it. */
  send(message: Message, headers: Record<string, string>): Promise<void>;
  close(): void;
}

/** Legacy HTTP+SSE upstream: one GET stream carries every server message; messages are POSTed to `endpoint`. */
export class SseUpstreamChannel implements UpstreamChannel {
  onmessage?: (message: Message) => void;
  onclose?: (reason: string) => void;
  private endpoint?: URL;
  private readonly abort = new AbortController();
  private closed = false;

  private constructor(
    private readonly client: UpstreamClient,
    private readonly upstream: Upstream,
  ) {}

  static async open(
    client: UpstreamClient,
    upstream: Upstream,
    headers: Record<string, string>,
    timeoutMs = 10_000,
  ): Promise<SseUpstreamChannel> {
    const channel = new SseUpstreamChannel(client, upstream);
    await channel.connect(headers, timeoutMs);
    return channel;
  }

  private async connect(headers: Record<string, string>, timeoutMs: number): Promise<void> {
    const response = await this.client.request(this.upstream, {
      method: 'GET',
      headers: { ...headers, accept: 'text/event-stream' },
      signal: this.abort.signal,
    });
    if (response.statusCode !== 200) {
      response.body.resume();
      throw new UpstreamUnavailableError(
        `upstream "${this.upstream.name}" answered ${response.statusCode} to the SSE handshake`,
        502,
      );
    }
    const parser = new SseParser();
    let ready: (() => void) | undefined;
    let failed: ((error: Error) => void) | undefined;
    const endpointSeen = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    const timer = setTimeout(
      () => failed?.(new UpstreamUnavailableError(`upstream "${this.upstream.name}" sent no endpoint`, 504)),
      timeoutMs,
    );
    response.body.setEncoding('utf8');
    response.body.on('data', (chunk: string) => {
      let events;
      try {
        events = parser.push(chunk);
      } catch (error) {
        this.shutdown((error as Error).message);
        return;
      }
      for (const event of events) {
        if (event.event === 'endpoint' && !this.endpoint) {
          const endpoint = new URL(event.data, this.upstream.url);
          if (endpoint.origin !== this.upstream.url.origin) {
            failed?.(
              new UpstreamUnavailableError(
                `upstream "${this.upstream.name}" named an endpoint on another origin`,
                502,
              ),
            );
            continue;
          }
          this.endpoint = endpoint;
          ready?.();
        } else if ((event.event ?? 'message') === 'message') {
          try {
            this.onmessage?.(JSON.parse(event.data) as Message);
          } catch {
            // a malformed frame from the upstream is dropped, never allowed to break the relay
          }
        }
      }
    });
    response.body.on('error', () => this.shutdown('upstream stream failed'));
    response.body.on('end', () => this.shutdown('upstream closed the stream'));
    try {
      await endpointSeen;
    } catch (error) {
      this.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async send(message: Message, headers: Record<string, string>): Promise<void> {
    if (this.closed || !this.endpoint)
      throw new UpstreamUnavailableError(`upstream "${this.upstream.name}" session is closed`, 502);
    const response = await this.client.request(this.upstream, {
      method: 'POST',
      url: this.endpoint,
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(message),
    });
    await response.body.dump();
    if (response.statusCode >= 300) {
      throw new UpstreamUnavailableError(
        `upstream "${this.upstream.name}" refused the message (${response.statusCode})`,
        502,
      );
    }
  }

  private shutdown(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.onclose?.(reason);
  }

  close(): void {
    this.shutdown('closed');
  }
}

/** Streamable HTTP upstream driven as a session: each message is a POST; JSON or SSE answers feed `onmessage`. */
export class StreamableUpstreamChannel implements UpstreamChannel {
  onmessage?: (message: Message) => void;
  onclose?: (reason: string) => void;
  private sessionId?: string;
  private protocolVersion?: string;
  private readonly abort = new AbortController();
  private closed = false;

  constructor(
    private readonly client: UpstreamClient,
    private readonly upstream: Upstream,
  ) {}

  async send(message: Message, headers: Record<string, string>): Promise<void> {
    if (this.closed)
      throw new UpstreamUnavailableError(`upstream "${this.upstream.name}" session is closed`, 502);
    const response = await this.client.request(this.upstream, {
      method: 'POST',
      headers: {
        ...headers,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(this.sessionId ? { 'mcp-session-id': this.sessionId } : {}),
        ...(this.protocolVersion ? { 'mcp-protocol-version': this.protocolVersion } : {}),
      },
      body: JSON.stringify(message),
      signal: this.abort.signal,
    });
    const session = response.headers['mcp-session-id'];
    if (typeof session === 'string') this.sessionId = session;
    const id = (message as { id?: string | number }).id;
    const type = String(response.headers['content-type'] ?? '');
    if (response.statusCode >= 400) {
      await response.body.dump();
      if (id !== undefined)
        this.deliver(
          errorResponse(
            id,
            ERROR_CODES.server_unavailable,
            `upstream "${this.upstream.name}" answered ${response.statusCode}`,
          ),
        );
      return;
    }
    if (type.includes('text/event-stream')) {
      // Read the answer stream in the background: the POST from the client was already accepted.
      const parser = new SseParser();
      response.body.setEncoding('utf8');
      response.body.on('data', (chunk: string) => {
        try {
          for (const event of parser.push(chunk))
            if ((event.event ?? 'message') === 'message' && event.data) this.parse(event.data);
        } catch {
          response.body.destroy();
        }
      });
      response.body.on('error', () => undefined);
      return;
    }
    const text = await response.body.text();
    if (text && type.includes('json')) this.parse(text);
  }

  private parse(text: string): void {
    try {
      const message = JSON.parse(text) as Message;
      const version = (message.result as Message | undefined)?.protocolVersion;
      if (typeof version === 'string') this.protocolVersion = version;
      this.deliver(message);
    } catch {
      // dropped: a malformed frame never breaks the session
    }
  }

  private deliver(message: Message | JsonRpcResponse): void {
    this.onmessage?.(message as Message);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    if (this.sessionId) {
      void this.client
        .request(this.upstream, { method: 'DELETE', headers: { 'mcp-session-id': this.sessionId } })
        .then((r) => r.body.dump())
        .catch(() => undefined);
    }
    this.onclose?.('closed');
  }
}
