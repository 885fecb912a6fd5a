/**
 * Credential redaction, one implementation for every place a value might carry a secret: the `agents` CLI before
 * it prints or pushes, and the control plane on every ingest path (fleet sync, audit batches), so that
 * "credential values are never stored" (SPEC §2) holds whoever the client is.
 */
export { isCredentialName, looksLikeSecret, nameWords } from './credentials.js';
export { REDACTED, redactArgs, sanitizeUrl } from './redact.js';
export type { RedactedArgs, SanitizedUrl } from './redact.js';
export { scrubSecrets } from './scrub.js';
export type { Scrubbed } from './scrub.js';
