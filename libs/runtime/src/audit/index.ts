/** One audit module for the proxy and the gateway: event construction, the local file, and one pusher. */
export { auditId, auditText, buildEvent } from './events.js';
export type { AuditFields } from './events.js';
export { MemoryAuditBuffer } from './buffer.js';
export type { AuditBatch, AuditBuffer } from './buffer.js';
export { AuditSpool } from './spool.js';
export type { SpoolBatch, SpoolFile } from './spool.js';
export { AuditPusher, clientTransport } from './pusher.js';
export type { AuditLog, AuditPusherOptions, AuditStats, AuditTransport } from './pusher.js';
export { AUDIT_FILE_DEFAULTS, AuditFile, auditFileConfig, parseSize } from './audit-file.js';
export type { AuditFileFlags, AuditFileOptions } from './audit-file.js';
export { AuditRecorder, CallRecord, PendingCalls, outcomeOfAnswer } from './recorder.js';
export { WindowCap } from './window-cap.js';
export type { Admission, WindowCapOptions } from './window-cap.js';
