import type { Logger } from 'pino';
import {
  AuditPusher,
  AuditRecorder,
  MemoryAuditBuffer,
  type AuditFields,
  type AuditFile,
  type AuditLog,
} from '../../../../libs/runtime/src/index.js';
import type { ControlPlaneLink } from '../control-plane/control-plane-link.js';

/** An event as the relay states it: the contract's fields; the runtime's audit module adds id and time. */
export type GatewayAuditEvent = AuditFields;

/**
 * The gateway's wiring of the runtime's audit module for one tenant: every event is cleaned once
 * (`libs/runtime/audit`), written to the shared `--audit-file` when set (with the tenant), logged when it is not
 * a plain allowed call, and pushed through the tenant's own control-plane link from a bounded memory buffer.
 */
export class AuditSink {
  private readonly pusher: AuditPusher;
  private readonly recorder: AuditRecorder;
  /** Whether anything takes a plain allowed call's event: the audit file or the control plane. */
  readonly keepsAllowedCalls: boolean;

  constructor(
    readonly tenant: string,
    link: ControlPlaneLink | undefined,
    private readonly options: { sourceId: string; sessionId: string; maxEvents: number; flushMs: number },
    logger: Logger,
    file?: AuditFile,
  ) {
    this.keepsAllowedCalls = link !== undefined || file !== undefined;
    const log: AuditLog = {
      info: (message, fields) => logger.info({ tenant, ...fields }, message),
      warn: (message, fields) => logger.warn({ tenant, ...fields }, message),
      error: (message, fields) => logger.error({ tenant, ...fields }, message),
    };
    this.pusher = new AuditPusher(
      new MemoryAuditBuffer(options.sessionId, options.maxEvents),
      link ? (batch, key, json) => link.pushAudit(batch, key, json) : undefined,
      log,
      { sourceId: options.sourceId, flushMs: options.flushMs, maxBackoffMs: 30_000 },
    );
    this.recorder = new AuditRecorder({
      file,
      scope: { tenant },
      pusher: this.pusher,
      // The log line shows the event as the ledger gets it (cleaned, secrets redacted), never the raw fields.
      log: (event) => {
        if (event.type !== 'tool_call.allowed') logger.info({ audit: { tenant, ...event } }, event.type);
      },
    });
  }

  get pending(): number {
    return this.pusher.pending;
  }
  get dropped(): number {
    return this.pusher.stats.dropped;
  }
  get conflicts(): number {
    return this.pusher.stats.conflicts;
  }
  get delivered(): number {
    return this.pusher.stats.delivered;
  }

  start(): void {
    void this.pusher.start();
  }

  record(event: GatewayAuditEvent): void {
    // An allowed call's event goes only to the audit file and the control plane (it is not logged): with neither,
    // it is counted and never built (a UUID, the text cleaning and the pusher per relayed call).
    if (!this.keepsAllowedCalls && event.type === 'tool_call.allowed') return this.pusher.countUnbuilt();
    this.recorder.record(event);
  }

  flush(): Promise<void> {
    return this.pusher.flush();
  }

  /** Last delivery attempt at shutdown, bounded in time. */
  close(timeoutMs = 5_000): Promise<void> {
    return this.pusher.close(timeoutMs);
  }
}
