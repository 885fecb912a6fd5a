import { redactJson, scanArguments } from '../../detectors/src/index.js';

/** `--argument-detectors`: high/critical findings refuse the call (`block`), are only flagged (`warn`), or skipped. */
export type ArgumentDetectorMode = 'block' | 'warn' | 'off';
/** `--credential-action`: a response holding credentials is redacted in place, or withheld. */
export type CredentialAction = 'redact' | 'block';

export const ARGUMENT_DETECTOR_MODES: readonly ArgumentDetectorMode[] = ['block', 'warn', 'off'];
export const CREDENTIAL_ACTIONS: readonly CredentialAction[] = ['redact', 'block'];

/** What the argument-detector step decided about one call's arguments. */
export interface ArgumentVerdict {
  /** Set when the call must be refused: the message to send and the detectors that blocked it. */
  readonly blocked?: { readonly message: string; readonly detectors: string[] };
  /** Every detector kind that fired (blocking or not), for the audit event. */
  readonly detectors: readonly string[];
  /** Lower findings (or everything in `warn` mode): the call passes, flagged with these texts. */
  readonly warnings: readonly string[];
}

/** Nothing found, or the step off: one frozen verdict (most calls), not an object and three arrays per call. */
const NOTHING: ArgumentVerdict = Object.freeze({ detectors: Object.freeze([]), warnings: Object.freeze([]) });

/**
 * The argument-detector step of the decision pipeline, the same in the proxy and the gateway. In `block` mode a
 * high or critical finding refuses the call, and so do arguments that could not be fully inspected (fail
 * closed); lower findings, and everything in `warn` mode, are returned as warnings.
 */
export function argumentDetectorStep(mode: ArgumentDetectorMode, args: unknown): ArgumentVerdict {
  if (mode === 'off' || args === undefined) return NOTHING;
  const scan = scanArguments(args);
  if (scan.complete && scan.findings.length === 0) return NOTHING;
  const detectors = scan.findings.map((f) => f.kind);
  const blocking = scan.findings.filter((f) => f.severity === 'high' || f.severity === 'critical');
  if (mode === 'block' && (blocking.length > 0 || !scan.complete)) {
    const what =
      blocking.length > 0
        ? blocking
            .slice(0, 3)
            .map((f) => `${f.path}: ${f.reason}`)
            .join('; ')
        : `the arguments could not be fully inspected (${scan.limit})`;
    return {
      blocked: {
        message: `blocked by argument detectors: ${what}`,
        detectors: [...new Set(blocking.map((f) => f.kind))],
      },
      detectors,
      warnings: [],
    };
  }
  const warnings = scan.findings.map((f) => `${f.kind} at ${f.path}: ${f.reason}`);
  if (!scan.complete) warnings.push(`arguments not fully inspected (${scan.limit})`);
  return { detectors, warnings };
}

/** What response scanning found in one JSON-RPC message (only when something was found). */
export interface ResponseFinding {
  /** The message with every matching string value redacted in place (every other byte is the server's). */
  readonly text: string;
  /** How many values were redacted. */
  readonly count: number;
  /** The detector kinds that matched, once each. */
  readonly detectors: string[];
  /** `aws access key, github token` — for messages and log lines (never the values). */
  readonly summary: string;
}

/**
 * The response-scanning step, the same in the proxy and the gateway: scans every string value of a JSON-RPC
 * message for credentials and personal data and redacts matches in place. Returns undefined when nothing matched
 * (the caller then relays the original bytes untouched).
 */
export function scanResponse(text: string): ResponseFinding | undefined {
  const redacted = redactJson(text);
  if (redacted.count === 0) return undefined;
  const detectors = [...new Set(redacted.findings.map((f) => f.kind))];
  return { text: redacted.text, count: redacted.count, detectors, summary: describeDetectors(detectors) };
}

/** The response withheld under `--credential-action block`: the reason clients and the audit see. */
export function withheldReason(finding: ResponseFinding): string {
  return `response withheld by agent-bom: it contained ${finding.summary}`;
}

export function describeDetectors(detectors: readonly string[]): string {
  return detectors.slice(0, 5).join(', ').replace(/_/g, ' ');
}

/**
 * The shape step for `tools/call`, the same in the proxy and the gateway: `name` must be a string and
 * `arguments`, when present, an object. Returns the refusal message, or undefined when the shape is right.
 */
export function toolCallShapeError(params: unknown): string | undefined {
  if (params === null || typeof params !== 'object' || Array.isArray(params))
    return 'tools/call needs a string "name"';
  const { name, arguments: args } = params as Record<string, unknown>;
  if (typeof name !== 'string') return 'tools/call needs a string "name"';
  if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args)))
    return 'tools/call "arguments" must be an object';
  return undefined;
}
