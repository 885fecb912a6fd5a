/** What {@link WindowCap.admit} decided for one event. */
export interface Admission {
  /** True: record this event one by one. False: it was only counted, for its window's summary. */
  readonly admitted: boolean;
  /** When the key's current window started (pass it to {@link WindowCap.end} from a timer). */
  readonly windowStart: number;
  /** Milliseconds until the key's current window ends. */
  readonly endsInMs: number;
}

export interface WindowCapOptions {
  /** Events of one key recorded one by one per window; the rest are counted. */
  readonly perWindow: number;
  /** Window length (default a minute). */
  readonly windowMs?: number;
  /** Windows held at most (default 10,000). */
  readonly maxKeys?: number;
  readonly now?: () => number;
  /** Called once for every window that ends with events over the cap, with how many there were. */
  readonly onSummary?: (key: string, suppressed: number) => void;
}

interface Window {
  readonly start: number;
  admitted: number;
  suppressed: number;
}

/**
 * A per-key cap on audited events per fixed window, for refusals that unauthenticated callers can cause (the
 * gateway's refused access tokens, the control plane's refused logins): the first `perWindow` events of a key in a
 * window are admitted, the rest counted. Pure: no timers and no I/O; a caller that wants the summary on time
 * schedules {@link end} itself. Guarantees:
 * - keys are isolated: a flood on one key never uses another key's allowance;
 * - a window starts at a key's first event and ends `windowMs` later; the key's next event after that starts a
 *   new window with a full allowance;
 * - every event over the cap is counted in exactly one summary (`onSummary(key, count)`, only when count > 0),
 *   given when its window ends: at the key's next event after the end, on {@link end}, on {@link close}, or when
 *   the window is evicted;
 * - memory is bounded: at most `maxKeys` windows are held. A new key that finds the table full first evicts the
 *   windows that have ended; if none has, every window is summarised and dropped, so a flood of distinct keys
 *   costs at most extra admissions (current keys start over), never memory.
 */
export class WindowCap {
  private readonly windows = new Map<string, Window>();
  private readonly windowMs: number;
  private readonly maxKeys: number;

  constructor(private readonly options: WindowCapOptions) {
    this.windowMs = options.windowMs ?? 60_000;
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  /** Counts one event of `key` and says whether to record it one by one. */
  admit(key: string): Admission {
    const now = this.now();
    let window = this.windows.get(key);
    if (window && now - window.start >= this.windowMs) {
      this.windows.delete(key);
      this.summarise(key, window);
      window = undefined;
    }
    if (!window) {
      if (this.windows.size >= this.maxKeys) this.evict(now);
      window = { start: now, admitted: 0, suppressed: 0 };
      this.windows.set(key, window);
    }
    const admitted = window.admitted < this.options.perWindow;
    if (admitted) window.admitted += 1;
    else window.suppressed += 1;
    return { admitted, windowStart: window.start, endsInMs: Math.max(0, window.start + this.windowMs - now) };
  }

  /**
   * Ends `key`'s window now and gives its summary, if it is still the window that started at `windowStart`
   * (a timer set for an earlier window of the key does nothing).
   */
  end(key: string, windowStart: number): void {
    const window = this.windows.get(key);
    if (!window || window.start !== windowStart) return;
    this.windows.delete(key);
    this.summarise(key, window);
  }

  /** Ends every window and gives their summaries (shutdown). */
  close(): void {
    const windows = [...this.windows];
    this.windows.clear();
    for (const [key, window] of windows) this.summarise(key, window);
  }

  /** Windows held. */
  get size(): number {
    return this.windows.size;
  }

  /**
   * A window is inserted when it starts and never moved, so the map is in start order and the ended windows are
   * its head: evicting them costs what they are, not a scan of the table.
   */
  private evict(now: number): void {
    for (const [key, window] of this.windows) {
      if (now - window.start < this.windowMs) break;
      this.windows.delete(key);
      this.summarise(key, window);
    }
    if (this.windows.size >= this.maxKeys) this.close();
  }

  private summarise(key: string, window: Window): void {
    if (window.suppressed > 0) this.options.onSummary?.(key, window.suppressed);
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }
}
