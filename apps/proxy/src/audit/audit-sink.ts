import type { RuntimeAuditEvent } from '../../../../libs/contracts/src/index.js';
import type { ControlPlaneClient } from '../../../../libs/control-plane-client/src/index.js';
import {
  AuditFile,
  AuditPusher,
  AuditRecorder,
  MemoryAuditBuffer,
  clientTransport,
  type AuditLog,
  type AuditSpool,
  type AuditStats,
} from '../../../../libs/runtime/src/index.js';
import { ProxyConfigError, type ProxyConfig } from '../config.js';
import type { ProxyLogger } from '../logger.js';
import { buildEvent, type EventContext, type EventFacts } from './events.js';

export interface AuditSinkOptions {
  sourceId: string;
  sessionId: string;
  flushMs: number;
  /** Longest wait between delivery attempts while the control plane is unreachable. */
  maxBackoffMs: number;
}

/**
 * Opens `--audit-file` before the server starts (a path that cannot be opened is a usage error, exit 2).
 */
export function openAuditFile(
  config: ProxyConfig,
  identity: { sourceId: string; sessionId: string },
  logger: ProxyLogger,
): AuditFile | undefined {
  if (!config.auditFile) return undefined;
  const file = new AuditFile({ ...config.auditFile, ...identity }, auditLog(logger));
  try {
    file.open();
  } catch (error) {
    throw new ProxyConfigError(
      `--audit-file: cannot open ${config.auditFile.path}: ${(error as Error).message}`,
    );
  }
  return file;
}

function auditLog(logger: ProxyLogger): AuditLog {
  return {
    info: (message) => logger.info(message),
    warn: (message) => logger.warn(message),
    error: (message) => logger.error(message),
  };
}

/**
 * The proxy's wiring of the runtime's audit module: every event goes to the `--log` file, to the `--audit-file`
 * when set, and — with a control plane — through the disk spool to `POST /v1/proxy/audit` (libs/runtime/audit).
 */
export class AuditSink {
  private readonly pusher: AuditPusher;
  private readonly recorder: AuditRecorder;
  private readonly file?: AuditFile;
  private readonly delivering: boolean;

  constructor(
    private readonly logger: ProxyLogger,
    options: AuditSinkOptions,
    client?: ControlPlaneClient,
    spool?: AuditSpool,
    file?: AuditFile,
  ) {
    const log = auditLog(logger);
    this.delivering = Boolean(client && spool);
    this.pusher = new AuditPusher(
      spool ?? new MemoryAuditBuffer(options.sessionId, 0),
      client && spool ? clientTransport(client) : undefined,
      log,
      options,
    );
    this.file = file;
    this.recorder = new AuditRecorder({
      file: this.file,
      pusher: this.pusher,
      log: (event) => logger.audit(event),
    });
  }

  get stats(): AuditStats {
    return this.pusher.stats;
  }

  start(): Promise<void> {
    return this.pusher.start();
  }

  /**
   * Whether an event goes anywhere: the `--log` file, the `--audit-file` or a control plane. Without any, events
   * (and the argument fingerprints only they carry) are not built, only counted.
   */
  get takesEvents(): boolean {
    return this.delivering || this.file !== undefined || this.logger.logsToFile;
  }

  record(event: RuntimeAuditEvent): void {
    this.recorder.write(event);
  }

  /** A pipeline step's facts as one event, built (cleaned, given an id and a time) only when something takes it. */
  emit(facts: EventFacts, context: EventContext): void {
    if (this.takesEvents) this.record(buildEvent(facts, context));
    else this.pusher.countUnbuilt();
  }

  flush(): Promise<void> {
    return this.pusher.flush();
  }

  /** Buffers what is queued and tries to deliver for at most `deadlineMs`; what is left stays spooled. */
  async close(deadlineMs: number): Promise<void> {
    await this.pusher.close(deadlineMs);
    this.file?.close();
  }
}
