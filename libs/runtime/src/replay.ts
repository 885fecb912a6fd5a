import { hash } from 'node:crypto';

/**
 * A payload fingerprint computed only when it is compared: most calls use an id nobody used before in the window,
 * and then nothing is compared. `retain()` is called when the guard keeps it: from then on it may hold only
 * bounded state (see `messagePayload` in session-steps.ts).
 */
export interface DeferredPayload {
  fingerprint(): string;
  retain(): void;
}

/** A payload: its fingerprint, or one computed when first compared. */
export type ReplayPayload = string | DeferredPayload;

interface Entry {
  readonly id: string;
  readonly payload: ReplayPayload;
  readonly expires: number;
  /** The fingerprint, once known (at once for a string payload; for a deferred one when first compared). */
  fingerprint?: string;
  live: boolean;
}

/** The live entries of one id: by fingerprint, and those whose fingerprint nobody needed yet. */
interface Slot {
  /** Made when the first fingerprint is known: most ids are remembered once, deferred, and never compared. */
  known: Map<string, Entry> | null;
  deferred: Entry[];
}

/**
 * Replay detection. JSON-RPC lets a client reuse an id once its response has arrived, so an id alone proves
 * nothing; what a replay looks like on a stdio connection is the *same id with the same payload* arriving again
 * (a re-sent frame, a confused or hostile client re-issuing a side-effecting call). The guard remembers
 * `(id, fingerprint of method + params without _meta)` of every request it let through, for `windowMs`, in an
 * exact insertion-ordered structure bounded by `capacity` (oldest forgotten first). `_meta` is left out on purpose: a
 * replay with a fresh `traceparent` or progress token is still the same call.
 *
 * Bounded by time (entries expire after `windowMs`, oldest first, amortised O(1) per call: expiry stops at the
 * first live entry) and by memory (`capacity` entries of bounded size: a long id is hashed). Only calls that
 * act are remembered (pings, initialize and list requests are not, see RequestPipeline), so a flood of cheap
 * messages cannot push a remembered call out.
 */
export class ReplayGuard {
  private readonly byId = new Map<string, Slot>();
  /**
   * Every `remember`, oldest first (a ring read from `head`). Expiry and eviction walk this queue rather than
   * a map: a Map deleted from its front keeps the deleted slots until it rehashes, and walking them cost every
   * call thousands of steps once the guard was full. An entry superseded by a later one with the same id and
   * payload is dead and skipped.
   */
  private queue: Entry[] = [];
  private head = 0;
  private live = 0;

  constructor(
    private readonly windowMs: number,
    private readonly capacity = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.windowMs > 0;
  }

  /**
   * True when this id and payload were already let through inside the window. Fingerprints are computed only
   * when the id was seen inside the window (then every deferred one of that id, once).
   */
  isReplay(idKey: string, payload: ReplayPayload): boolean {
    if (!this.enabled) return false;
    this.expire();
    const slot = this.byId.get(idPart(idKey));
    if (!slot) return false;
    if (slot.deferred.length > 0) {
      const deferred = slot.deferred;
      slot.deferred = [];
      for (const entry of deferred) this.know(slot, entry, (entry.payload as DeferredPayload).fingerprint());
    }
    return slot.known?.has(typeof payload === 'string' ? payload : payload.fingerprint()) ?? false;
  }

  remember(idKey: string, payload: ReplayPayload): void {
    if (!this.enabled) return;
    const id = idPart(idKey);
    let slot = this.byId.get(id);
    if (!slot) this.byId.set(id, (slot = { known: null, deferred: [] }));
    const entry: Entry = { id, payload, expires: this.now() + this.windowMs, live: true };
    this.queue.push(entry);
    this.live++;
    if (typeof payload === 'string') this.know(slot, entry, payload);
    else {
      payload.retain();
      slot.deferred.push(entry);
    }
    while (this.live > this.capacity) this.forgetOldest();
    if (this.queue.length - this.head > 2 * this.capacity) this.compact();
  }

  /** Files an entry under its fingerprint; of two with the same one, the later-expiring lives on. */
  private know(slot: Slot, entry: Entry, fingerprint: string): void {
    entry.fingerprint = fingerprint;
    slot.known ??= new Map();
    const other = slot.known.get(fingerprint);
    if (other) {
      const [keep, drop] = other.expires > entry.expires ? [other, entry] : [entry, other];
      drop.live = false;
      this.live--;
      slot.known.set(fingerprint, keep);
      return;
    }
    slot.known.set(fingerprint, entry);
  }

  private expire(): void {
    const now = this.now();
    while (this.head < this.queue.length && this.queue[this.head].expires <= now) this.forgetOldest();
  }

  /** Drops the queue's head (nothing more when it was already dead). */
  private forgetOldest(): void {
    const entry = this.queue[this.head++];
    if (entry.live) {
      entry.live = false;
      this.live--;
      const slot = this.byId.get(entry.id)!;
      if (entry.fingerprint !== undefined) slot.known!.delete(entry.fingerprint);
      else slot.deferred.splice(slot.deferred.indexOf(entry), 1);
      if ((slot.known === null || slot.known.size === 0) && slot.deferred.length === 0)
        this.byId.delete(entry.id);
    }
    if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** Only ids remembered again and again with one payload inside the window leave dead entries: keep the live. */
  private compact(): void {
    this.queue = this.queue.slice(this.head).filter((entry) => entry.live);
    this.head = 0;
  }

  get size(): number {
    return this.live;
  }
}

/** A long id is kept as its digest (bounded memory per entry). */
function idPart(idKey: string): string {
  return idKey.length > 64 ? hash('sha256', idKey, 'base64') : idKey;
}
