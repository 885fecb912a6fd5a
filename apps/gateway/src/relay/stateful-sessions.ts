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
    readonly owner: SessionOwner,
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

/** Who holds a session: its tenant and the credential that opened it (`Principal.id`). */
export interface SessionOwner {
  tenant: string;
  credential: string;
}

export interface SessionLimits {
  total: number;
  perTenant: number;
  perCredential: number;
  /** Session opens per credential per minute (a sliding window of one minute). */
  opensPerMinute: number;
}

/** Why a session may not be opened now: `status` 503 (replica full) or 429 (this tenant or credential). */
export interface SessionRefusal {
  status: 429 | 503;
  reason: string;
  retryAfterSeconds: number;
}

const DEFAULT_LIMITS: SessionLimits = {
  total: 10_000,
  perTenant: 1_000,
  perCredential: 50,
  opensPerMinute: 120,
};

/**
 * The sessions of this replica, with an idle timeout and bounds on how many may be open: in all, per tenant and
 * per credential, plus a rate on how fast one credential may open them. One tenant can exhaust its own share,
 * never the replica's.
 */
export class StatefulSessions {
  private readonly sessions = new Map<string, StatefulSession>();
  private readonly byTenant = new Map<string, number>();
  private readonly byCredential = new Map<string, number>();
  /** Per credential: open timestamps within the last minute (at most `opensPerMinute` kept). */
  private readonly opens = new Map<string, number[]>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly limits: SessionLimits = DEFAULT_LIMITS,
    private readonly idleMs = 30 * 60_000,
    private readonly onChange: (count: number) => void = () => undefined,
  ) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Whether `owner` may open one more session now; counts the attempt against the open rate when it may. */
  admit(owner: SessionOwner, now = Date.now()): SessionRefusal | undefined {
    if (this.sessions.size >= this.limits.total)
      return { status: 503, reason: 'too many open sessions on this gateway', retryAfterSeconds: 5 };
    if ((this.byTenant.get(owner.tenant) ?? 0) >= this.limits.perTenant)
      return {
        status: 429,
        reason: `too many open sessions for this tenant (limit ${this.limits.perTenant})`,
        retryAfterSeconds: 5,
      };
    if ((this.byCredential.get(owner.credential) ?? 0) >= this.limits.perCredential)
      return {
        status: 429,
        reason: `too many open sessions for this credential (limit ${this.limits.perCredential})`,
        retryAfterSeconds: 5,
      };
    const recent = (this.opens.get(owner.credential) ?? []).filter((t) => t > now - 60_000);
    if (recent.length >= this.limits.opensPerMinute) {
      this.opens.set(owner.credential, recent);
      return {
        status: 429,
        reason: `sessions opened too fast for this credential (limit ${this.limits.opensPerMinute}/min)`,
        retryAfterSeconds: Math.max(1, Math.ceil((recent[0] + 60_000 - now) / 1000)),
      };
    }
    recent.push(now);
    this.opens.set(owner.credential, recent);
    return undefined;
  }

  create(binding: string, owner: SessionOwner, channel: UpstreamChannel, client?: string): StatefulSession {
    const session = new StatefulSession(binding, owner, channel, client, (s) => {
      if (!this.sessions.delete(s.id)) return;
      this.count(this.byTenant, s.owner.tenant, -1);
      this.count(this.byCredential, s.owner.credential, -1);
      this.onChange(this.sessions.size);
    });
    this.sessions.set(session.id, session);
    this.count(this.byTenant, owner.tenant, 1);
    this.count(this.byCredential, owner.credential, 1);
    this.onChange(this.sessions.size);
    return session;
  }

  private count(map: Map<string, number>, key: string, delta: number): void {
    const next = (map.get(key) ?? 0) + delta;
    if (next > 0) map.set(key, next);
    else map.delete(key);
  }

  /** The session, only for the binding that opened it. */
  get(id: string, binding: string): StatefulSession | undefined {
    const session = this.sessions.get(id);
    if (!session || session.binding !== binding || session.closed) return undefined;
    session.lastUsed = Date.now();
    return session;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [credential, times] of this.opens) {
      if (!times.length || times[times.length - 1] <= now - 60_000) this.opens.delete(credential);
    }
    const cutoff = now - this.idleMs;
    for (const session of this.sessions.values()) {
      if (session.lastUsed < cutoff && session.listeners.size === 0) session.close();
    }
  }

  closeAll(): void {
    clearInterval(this.sweeper);
    for (const session of [...this.sessions.values()]) session.close();
  }
}
