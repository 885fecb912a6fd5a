/** How bad a finding is. The proxy blocks `high` and `critical` argument findings and warns on the rest. */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What a detector looks at: request arguments, or credentials and personal data anywhere. */
export const CATEGORIES = ['argument', 'credential', 'pii'] as const;
export type Category = (typeof CATEGORIES)[number];

/**
 * One thing a detector found. Never carries the matched text: `path` says where, `reason` says what, in words
 * that are safe to log, audit and show to a model.
 */
export interface Finding {
  /** Stable id of what was found, e.g. `aws_access_key_id`, `path_traversal`; matches `[a-z0-9_]{1,64}`. */
  readonly kind: string;
  readonly category: Category;
  readonly severity: Severity;
  /** JSONPath of the string value, e.g. `$.arguments.path` or `$.content[0].text`; `$` for a bare string. */
  readonly path: string;
  /** Short, human, value-free: `"AWS access key id"`, `"climbs 3 directories with ../"`. */
  readonly reason: string;
}

/** The result of a scan. `complete` is false when a limit stopped the walk: absence of findings proves nothing. */
export interface ScanResult {
  readonly findings: readonly Finding[];
  readonly complete: boolean;
  /** Why the scan is incomplete, when it is. */
  readonly limit?: string;
}

export interface ScanOptions {
  /** Only these kinds (default: every kind of the scan's default set). */
  readonly kinds?: readonly string[];
  /** Stop after this many findings (default 100); the result stays `complete`. */
  readonly maxFindings?: number;
}
