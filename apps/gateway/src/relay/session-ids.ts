import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a gateway session id carries: the upstream's own session id and the client name seen at initialize. */
export interface SessionClaims {
  upstreamSessionId: string;
  client?: string;
}

/**
 * Session ids the gateway hands out instead of the upstream's. Each is `gw1.<payload>.<mac>` where the MAC
 * (HMAC-SHA256, 128 bits) covers the payload *and* the tenant, upstream and credential that opened the
 * session. So a session id is only ever honoured for the same tenant, upstream and key: presented by anyone
 * else — another tenant, another key, another upstream name — it is simply unknown (404). Stateless, so any
 * replica sharing `AGENT_BOM_GATEWAY_SESSION_SECRET` can serve any request.
 */
export class SessionIds {
  constructor(private readonly secret: Buffer) {}

  wrap(binding: string, claims: SessionClaims): string {
    const payload = Buffer.from(JSON.stringify([claims.upstreamSessionId, claims.client ?? null])).toString(
      'base64url',
    );
    return `gw1.${payload}.${this.mac(binding, payload)}`;
  }

  unwrap(binding: string, id: string): SessionClaims | undefined {
    if (id.length > 2048) return undefined;
    const [version, payload, mac] = id.split('.');
    if (version !== 'gw1' || !payload || !mac) return undefined;
    const expected = Buffer.from(this.mac(binding, payload));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const [upstreamSessionId, client] = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as [
        string,
        string | null,
      ];
      return typeof upstreamSessionId === 'string'
        ? { upstreamSessionId, client: client ?? undefined }
        : undefined;
    } catch {
      return undefined;
    }
  }

  private mac(binding: string, payload: string): string {
    return createHmac('sha256', this.secret)
      .update(binding)
      .update('\u0000')
      .update(payload)
      .digest()
      .subarray(0, 16)
      .toString('base64url');
  }
}

/** What a session is bound to: the tenant, the upstream and the credential that opened it. */
export function sessionBinding(tenant: string, upstream: string, principalId: string): string {
  return `${tenant}\u0000${upstream}\u0000${principalId}`;
}
