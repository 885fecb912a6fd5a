/** What went wrong talking to the control plane; callers switch on `kind`, never on the message. */
export type ControlPlaneErrorKind =
  | 'invalid-url'
  | 'insecure-url'
  | 'unauthorized'
  | 'forbidden'
  | 'rejected'
  | 'conflict'
  | 'rate-limited'
  | 'server'
  | 'network'
  | 'timeout'
  | 'redirect'
  | 'bad-response';

/**
 * A failed control-plane call. The message is written for the operator and never contains the API key, request
 * headers or the request body; the server's own text is taken only from the error envelope's `message`.
 */
export class ControlPlaneError extends Error {
  override name = 'ControlPlaneError';

  constructor(
    readonly kind: ControlPlaneErrorKind,
    message: string,
    readonly details: {
      status?: number;
      /** The `error.code` of the control plane's envelope. */
      code?: string;
      requestId?: string;
      /** The envelope's `details.reason` (why a 403 refused an endpoint's push: `enrolled`, `revoked`, …). */
      reason?: string;
      /** HTTP attempts made (retries included). */
      attempts?: number;
    } = {},
  ) {
    super(message);
  }

  /** True for problems of the command line (bad or insecure URL), as opposed to the call failing. */
  get isUsageError(): boolean {
    return this.kind === 'invalid-url' || this.kind === 'insecure-url';
  }
}
