import type { Logger } from 'pino';
import { auditText, buildEvent, type AuditFile } from '../../../../libs/runtime/src/index.js';
import type { GatewayAuditEvent } from './audit-sink.js';

/** One refused access token, as the authenticator tells it: never the token or any part of it. */
export interface TokenRefusal {
  /** The reason code (`libs/oidc` refusals, or `role_may_not_relay`). */
  reason: string;
  /**
   * The tenant the token was aimed at, when the gateway can tell it and serves that tenant: the bound issuer's
   * tenant, or the tenant claim of a trusted deployment-wide issuer's token naming a served tenant.
   */
  tenant?: string;
  /** The token's `iss` (unverified; only logged and written to the local file, never to a tenant's ledger). */
  issuer?: string;
  /** The verified principal's subject, for a token that verified but may not relay (a 403). */
  agent?: string;
}

const WINDOW_MS = 60_000;
/** The key of the refusals that no tenant can be trusted with (unknown issuer, no served tenant). */
const UNATTRIBUTED = '';

interface Window {
  start: number;
  recorded: number;
  suppressed: number;
  timer?: NodeJS.Timeout;
}

/**
 * Audits refused OIDC access tokens at the gateway edge. Guarantees:
 * - a refusal aimed at a tenant this gateway serves goes to that tenant's ledger (its audit sink: the local file and
 *   the tenant's own control-plane link) as `request.refused` with `access token refused: <reason>`;
 * - a refusal no tenant can be trusted with (unknown issuer, no tenant claim, a tenant this gateway does not serve)
 *   reaches no tenant's ledger: it is logged and written to the gateway's own `--audit-file` without a tenant;
 * - at most `perMinute` refusals per tenant (and per the unattributed bucket) per minute are recorded one by one;
 *   the rest are counted and recorded as one summary event with `count` when the minute ends, so an attacker
 *   spraying tokens cannot flood a ledger (repeats of one token are already answered from the authenticator's
 *   negative cache and never get here);
 * - every refusal is logged once (`access token refused: <reason>`), with the issuer cleaned and bounded.
 */
export class TokenRefusals {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly options: {
      perMinute: number;
      /** The audit sink of a tenant this gateway serves, or undefined. */
      sinkOf: (tenant: string) => { record(event: GatewayAuditEvent): void } | undefined;
      file?: AuditFile;
      now?: () => number;
    },
    private readonly logger: Logger,
  ) {}

  refused(refusal: TokenRefusal): void {
    const issuer = refusal.issuer ? auditText(refusal.issuer, 200) : undefined;
    const sink = refusal.tenant ? this.options.sinkOf(refusal.tenant) : undefined;
    this.logger.info(
      { reason: refusal.reason, issuer, tenant: refusal.tenant, audited: sink ? 'tenant' : 'local' },
      `access token refused: ${refusal.reason}`,
    );
    const key = sink ? refusal.tenant! : UNATTRIBUTED;
    if (!this.admit(key)) return;
    const event: GatewayAuditEvent = {
      type: 'request.refused',
      decision: 'deny',
      reason: `access token refused: ${refusal.reason}`,
      agent: refusal.agent,
    };
    this.write(key, event, issuer);
  }

  /** Writes the pending summaries now (shutdown). */
  close(): void {
    for (const [key, window] of this.windows) this.summarise(key, window);
    this.windows.clear();
  }

  private write(key: string, event: GatewayAuditEvent, issuer?: string): void {
    if (key !== UNATTRIBUTED) {
      this.options.sinkOf(key)?.record(event);
      return;
    }
    // The issuer may be anyone's text: it goes to the operator's own file only, cleaned like every audit text.
    this.options.file?.write(
      buildEvent(issuer ? { ...event, reason: `${event.reason} (issuer ${issuer})` } : event),
    );
  }

  private admit(key: string): boolean {
    const now = this.options.now?.() ?? Date.now();
    let window = this.windows.get(key);
    if (window && now - window.start >= WINDOW_MS) {
      this.summarise(key, window);
      window = undefined;
    }
    if (!window) {
      if (this.windows.size >= 10_000) this.close();
      window = { start: now, recorded: 0, suppressed: 0 };
      this.windows.set(key, window);
    }
    if (window.recorded < this.options.perMinute) {
      window.recorded += 1;
      return true;
    }
    window.suppressed += 1;
    if (!window.timer) {
      const current = window;
      current.timer = setTimeout(
        () => {
          if (this.windows.get(key) === current) this.windows.delete(key);
          this.summarise(key, current);
        },
        Math.max(0, current.start + WINDOW_MS - now),
      );
      current.timer.unref();
    }
    return false;
  }

  /** One event for the refusals of a window that were over the cap. */
  private summarise(key: string, window: Window): void {
    if (window.timer) clearTimeout(window.timer);
    window.timer = undefined;
    if (!window.suppressed) return;
    const count = window.suppressed;
    window.suppressed = 0;
    this.write(key, {
      type: 'request.refused',
      decision: 'deny',
      reason: `access tokens refused over the audit cap (${this.options.perMinute} a minute): ${count} more not recorded one by one`,
      count,
    });
  }
}
