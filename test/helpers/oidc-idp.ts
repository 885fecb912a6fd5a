import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import Provider, { type ClientMetadata } from 'oidc-provider';

/** A signing key of the test IdP: its private JWK (for the provider) and a signer (for hand-made tokens). */
export interface IdpKey {
  kid: string;
  alg: 'ES256' | 'RS256';
  privateJwk: JWK;
  publicJwk: JWK;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
}

export async function makeIdpKey(kid: string, alg: 'ES256' | 'RS256' = 'ES256'): Promise<IdpKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateJwk, publicJwk, privateKey };
}

export interface IdpOptions {
  keys: IdpKey[];
  /** Audience of access tokens (the resource server: agent-bom). */
  audience: string;
  /** Claims added to the access token of each client-credentials client, by client id. */
  serviceClients?: Record<string, Record<string, unknown>>;
  /** Claims of each account a person logs in as, by login name (browser flow). */
  accounts?: Record<string, Record<string, unknown>>;
  /** A browser client: public (PKCE) with these redirect URIs. */
  browserClient?: { clientId: string; redirectUris: string[] };
  /** Listen on this port (to restart the IdP at the same issuer); default any. */
  port?: number;
}

/**
 * A real OpenID Provider (`oidc-provider`) on loopback: discovery, JWKS, client-credentials JWT access tokens, and
 * the authorization-code flow with its own login and consent pages (devInteractions).
 */
export class TestIdp {
  private constructor(
    readonly issuer: string,
    private readonly server: Server,
    readonly options: IdpOptions,
  ) {}

  static async start(options: IdpOptions): Promise<TestIdp> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const issuer = `http://127.0.0.1:${port}`;
    const accounts = options.accounts ?? {};
    // oidc-provider warns (console) about its development adapter and interactions: expected in a test IdP.
    const warn = console.warn;
    console.warn = () => undefined;
    const provider = new Provider(issuer, {
      clients: <ClientMetadata[]>[
        ...Object.keys(options.serviceClients ?? {}).map((clientId) => ({
          client_id: clientId,
          client_secret: `${clientId}-secret-0123456789abcdef`,
          grant_types: ['client_credentials'],
          redirect_uris: [],
          response_types: [],
        })),
        ...(options.browserClient
          ? [
              {
                client_id: options.browserClient.clientId,
                token_endpoint_auth_method: 'none',
                id_token_signed_response_alg: options.keys[0].alg,
                grant_types: ['authorization_code'],
                response_types: ['code'],
                redirect_uris: options.browserClient.redirectUris,
              },
            ]
          : []),
      ],
      jwks: { keys: options.keys.map((k) => k.privateJwk) as never },
      features: {
        clientCredentials: { enabled: true },
        devInteractions: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => options.audience,
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({
            scope: 'api',
            audience: options.audience,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: options.keys[0].alg } },
          }),
        },
      },
      claims: { openid: ['sub'], email: ['email'], agent_bom: ['tenant_id', 'agent_bom_role', 'groups'] },
      scopes: ['openid', 'email', 'agent_bom', 'api'],
      conformIdTokenClaims: false,
      pkce: { required: () => true },
      extraTokenClaims: (_ctx, token) => {
        const clientId = (token as { clientId?: string }).clientId;
        return clientId ? (options.serviceClients?.[clientId] ?? {}) : {};
      },
      findAccount: (_ctx, id) => ({
        accountId: id,
        claims: () => ({ sub: id, email: `${id}@example.test`, ...(accounts[id] ?? {}) }),
      }),
    });
    console.warn = warn;
    provider.proxy = false;
    server.on('request', provider.callback());
    return new TestIdp(issuer, server, options);
  }

  /** A real access token from the IdP's token endpoint (client-credentials grant). */
  async serviceToken(clientId: string): Promise<string> {
    const res = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${clientId}:${clientId}-secret-0123456789abcdef`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'api',
        resource: this.options.audience,
      }),
    });
    const body = (await res.json()) as { access_token?: string };
    if (!res.ok || !body.access_token) throw new Error(`IdP token: ${res.status} ${JSON.stringify(body)}`);
    return body.access_token;
  }

  /** A token signed by hand with one of the IdP's keys, for the refusal suites. */
  async sign(
    claims: JWTPayload,
    opts: { key?: IdpKey; header?: Record<string, unknown> } = {},
  ): Promise<string> {
    const key = opts.key ?? this.options.keys[0];
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: this.issuer, aud: this.options.audience, iat: now, exp: now + 300, ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...opts.header })
      .sign(key.privateKey);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
