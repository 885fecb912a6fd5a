import { randomUUID } from 'node:crypto';
import type { UpstreamChannel } from './channels.js';

type Message = Record<string, unknown>;

/**
 * A session the gateway holds in memory because the protocol needs a live connection: a legacy SSE client, or
 * a streamable HTTP client whose upstream speaks legacy SSE. Bound to tenant, upstream and credential like
 * every session; replies to a client's requests are matched by id, everything else goes to `listeners`.
 */
export class StatefulSession {
  readonly id = `gws.${randomUUID()}`;
  lastUsed = Date.now();
  readonly pending = new Map<string | number, (message: Message) => void>();
  readonly listeners = new Set<(message: Message) => void>();
  /** Ids of `tools/list` requests whose answers are filtered for this caller. */
  readonly filterIds = new Set<string | number>();
  closed = false;

  constructor(
    readonly binding: string,
    readonly channel: UpstreamChannel,
    public client: string | undefined,
    private readonly onClose: (session: StatefulSession) => void,
  ) {
    channel.onmessage = (message) => this.dispatch(message);
    channel.onclose = () => this.close();
  }

  private dispatch(message: Message): void {
    this.lastUsed = Date.now();
    const id = message.id as string | number | undefined;
    const isAnswer = id !== undefined && !('method' in message);
    const waiter = isAnswer ? this.pending.get(id) : undefined;
    if (waiter) {
      this.pending.delete(id!);
      waiter(message);
      return;
    }
    for (const listener of this.listeners) listener(message);
  }

  /** Waits for the answer to request `id` (the caller sends it after registering). */
  answerTo(id: string | number, timeoutMs: number): Promise<Message | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.pending.set(id, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.channel.close();
    for (const waiter of this.pending.values()) waiter({ closed: true });
    this.pending.clear();
    this.onClose(this);
  }
}

/** The sessions of this replica, with an idle timeout and a bound on how many may be open. */
export class StatefulSessions {
  private readonly sessions = new Map<string, StatefulSession>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly maxSessions = 10_000,
    private readonly idleMs = 30 * 60_000,
    private readonly onChange: (count: number) => void = () => undefined,
  ) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  get full(): boolean {
    return this.sessions.size >= this.maxSessions;
  }

  create(binding: string, channel: UpstreamChannel, client?: string): StatefulSession {
    const session = new StatefulSession(binding, channel, client, (s) => {
      this.sessions.delete(s.id);
      this.onChange(this.sessions.size);
    });
    this.sessions.set(session.id, session);
    this.onChange(this.sessions.size);
    return session;
  }

  /** The session, only for the binding that opened it. */
  get(id: string, binding: string): StatefulSession | undefined {
    const session = this.sessions.get(id);
    if (!session || session.binding !== binding || session.closed) return undefined;
    session.lastUsed = Date.now();
    return session;
  }

  private sweep(): void {
    const cutoff = Date.now() - this.idleMs;
    for (const session of this.sessions.values()) {
      if (session.lastUsed < cutoff && session.listeners.size === 0) session.close();
    }
  }

  closeAll(): void {
    clearInterval(this.sweeper);
    for (const session of [...this.sessions.values()]) session.close();
  }
}
