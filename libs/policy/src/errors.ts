/** One reason a policy document was rejected. `where` reads like `rules[3] (id "no-shell"): tools[1]`. */
export interface PolicyProblem {
  readonly where: string;
  /** The offending rule's id when it has a usable one. */
  readonly rule_id?: string;
  readonly message: string;
}

/** Thrown by `compilePolicy` with every problem found, never just the first. */
export class PolicyCompileError extends Error {
  override readonly name = 'PolicyCompileError';

  constructor(readonly problems: readonly PolicyProblem[]) {
    super(
      `invalid policy (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.where}: ${p.message}`).join('\n'),
    );
  }
}

/** Stable codes of `BundleVerificationError`; callers switch on these, never on messages. */
export const BUNDLE_ERROR_CODES = [
  'MALFORMED',
  'UNKNOWN_KEY',
  'BAD_SIGNATURE',
  'TENANT_MISMATCH',
  'NOT_YET_VALID',
  'EXPIRED',
  'ROLLBACK',
] as const;
export type BundleErrorCode = (typeof BUNDLE_ERROR_CODES)[number];

/** Thrown by `verifyBundle`. A bundle that throws must not be used, cached or partially trusted. */
export class BundleVerificationError extends Error {
  override readonly name = 'BundleVerificationError';

  constructor(
    readonly code: BundleErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
