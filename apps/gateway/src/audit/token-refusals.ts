import type { Logger } from 'pino';
import { auditText, buildEvent, WindowCap, type AuditFile } from '../../../../libs/runtime/src/index.js';
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

/** The key of the refusals that no tenant can be trusted with (unknown issuer, no served tenant). */
const UNATTRIBUTED = '';

/**
 * Audits refused OIDC access tokens at the gateway edge. Guarantees:
 * - a refusal aimed at a tenant this gateway serves goes to that tenant's ledger (its audit sink: the local file and
 *   the tenant's own control-plane link) as `request.refused` with `access token refused: <reason>`;
 * - a refusal no tenant can be trusted with (unknown issuer, no tenant claim, a tenant this gateway does not serve)
 *   reaches no tenant's ledger: it is logged and written to the gateway's own `--audit-file` without a tenant;
 * - at most `perMinute` refusals per tenant (and per the unattributed bucket) per minute are recorded one by one;
 *   the rest are counted and recorded as one summary event with `count` when the minute ends, so an attacker
 *   spraying tokens cannot flood a ledger (repeats of one token are already answered from the authenticator's
 *   negative cache and never get here); the summary is written when the minute ends, by a timer, and the
 *   counting is libs/runtime's {@link WindowCap} (at most 10,000 windows held);
 * - every refusal is logged once (`access token refused: <reason>`), with the issuer cleaned and bounded.
 */
export class TokenRefusals {
  private readonly cap: WindowCap;
  /** One timer per window with refusals over the cap, to write its summary when the minute ends. */
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly options: {
      perMinute: number;
      /** The audit sink of a tenant this gateway serves, or undefined. */
      sinkOf: (tenant: string) => { record(event: GatewayAuditEvent): void } | undefined;
      file?: AuditFile;
      now?: () => number;
    },
    private readonly logger: Logger,
  ) {
    this.cap = new WindowCap({
      perWindow: options.perMinute,
      now: options.now,
      onSummary: (key, count) => this.summarise(key, count),
    });
  }

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
    this.cap.close();
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
    const admission = this.cap.admit(key);
    if (admission.admitted) return true;
    if (!this.timers.has(key)) {
      const timer = setTimeout(() => {
        this.timers.delete(key);
        this.cap.end(key, admission.windowStart);
      }, admission.endsInMs);
      timer.unref();
      this.timers.set(key, timer);
    }
    return false;
  }

  /** One event for the refusals of a window that were over the cap. */
  private summarise(key: string, count: number): void {
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.write(key, {
      type: 'request.refused',
      decision: 'deny',
      reason: `access tokens refused over the audit cap (${this.options.perMinute} a minute): ${count} more not recorded one by one`,
      count,
    });
  }
}
