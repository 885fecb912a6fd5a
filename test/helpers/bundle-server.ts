import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  keyIdOf,
  publicKeyJwk,
  signBundle,
  type PolicyDocument,
  type SignedBundle,
} from '../../libs/policy/src/index.js';

export interface BundleServerOptions {
  token: string;
  tenant?: string;
  policy?: PolicyDocument;
  /** Where to forward `POST /v1/proxy/audit` (a real control plane); recorded locally when absent. */
  auditUpstream?: string;
}

export interface BundleServer {
  url: string;
  port: number;
  /** Current signing key (rotate with `rotateKey`). */
  key: KeyObject;
  bundle: SignedBundle;
  /** Every request: method, path, If-None-Match. */
  requests: Array<{ method: string; path: string; ifNoneMatch?: string; status: number }>;
  /** Audit batches received (when not forwarding). */
  auditBatches: Array<{ source_id: string; session_id?: string; events: Array<Record<string, unknown>> }>;
  /** Publishes a new bundle (version +1 unless given), signed with the current key. */
  publish(
    policy: PolicyDocument,
    options?: { version?: number; ttlSeconds?: number; issuedAt?: Date },
  ): SignedBundle;
  /** Signs with a new key (the old one stays published unless `retireOld`). */
  rotateKey(retireOld?: boolean): void;
  /** Points audit forwarding at another control plane URL (e.g. after a restart on a new port). */
  setAuditUpstream(url: string | undefined): void;
  /** Stops listening (the port stays reserved for `start`). */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const iso = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * A loopback stand-in for the control plane's policy routes, speaking exactly their contract:
 * `GET /v1/policy/bundle` (Bearer, `ETag: "<version>.<key_id>"`, `If-None-Match` → 304) and
 * `GET /v1/policy/verification-key` (`{current_key_id, keys:[{key_id, alg, public_key_pem, jwk}]}`); audit pushes
 * are recorded or forwarded to a real control plane. Bundles are signed with libs/policy `signBundle`.
 */
export async function startBundleServer(options: BundleServerOptions): Promise<BundleServer> {
  const tenant = options.tenant ?? 'acme';
  const keys: KeyObject[] = [generateKeyPairSync('ed25519').privateKey];
  let version = 0;
  const requests: BundleServer['requests'] = [];
  const auditBatches: BundleServer['auditBatches'] = [];
  let auditUpstream = options.auditUpstream;

  const state = {
    key: keys[0],
    bundle: undefined as unknown as SignedBundle,
  };
  const publish: BundleServer['publish'] = (policy, o = {}) => {
    version = o.version ?? version + 1;
    const issued = o.issuedAt ?? new Date(Date.now() - 1000);
    state.bundle = signBundle(
      {
        tenant_id: tenant,
        version,
        policy,
        issued_at: iso(issued),
        expires_at: iso(new Date(issued.getTime() + (o.ttlSeconds ?? 3600) * 1000)),
      },
      state.key,
    );
    return state.bundle;
  };
  publish(options.policy ?? { version: 1, rules: [] });

  const etag = () => `"${state.bundle.payload.version}.${state.bundle.key_id}"`;
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', async () => {
      const path = (req.url ?? '').split('?')[0];
      const record = (status: number) =>
        requests.push({ method: req.method ?? '', path, ifNoneMatch: req.headers['if-none-match'], status });
      if (req.headers.authorization !== `Bearer ${options.token}`) {
        record(401);
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: 'bad key', request_id: 'r' } }));
        return;
      }
      if (req.method === 'GET' && path === '/v1/policy/bundle') {
        if (req.headers['if-none-match'] === etag()) {
          record(304);
          res.writeHead(304, { etag: etag() }).end();
          return;
        }
        record(200);
        res
          .writeHead(200, { 'content-type': 'application/json', etag: etag() })
          .end(JSON.stringify(state.bundle));
        return;
      }
      if (req.method === 'GET' && path === '/v1/policy/verification-key') {
        record(200);
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            current_key_id: keyIdOf(state.key),
            keys: keys.map((key) => ({
              key_id: keyIdOf(key),
              alg: 'Ed25519',
              public_key_pem: createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString(),
              jwk: publicKeyJwk(key),
            })),
          }),
        );
        return;
      }
      if (req.method === 'POST' && path === '/v1/proxy/audit') {
        if (auditUpstream) {
          try {
            const upstream = await fetch(`${auditUpstream}/v1/proxy/audit`, {
              method: 'POST',
              headers: { authorization: req.headers.authorization!, 'content-type': 'application/json' },
              body,
            });
            const text = await upstream.text();
            record(upstream.status);
            res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(text);
          } catch {
            record(502);
            res.writeHead(502).end();
          }
          return;
        }
        record(200);
        const batch = JSON.parse(body);
        auditBatches.push(batch);
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            accepted: batch.events.length,
            duplicates: 0,
            conflicts: 0,
            redacted: 0,
            duplicate_event_ids: [],
            conflict_event_ids: [],
            first_seq: 1,
            last_seq: batch.events.length,
          }),
        );
        return;
      }
      record(404);
      res.writeHead(404).end();
    });
  };

  let server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get key() {
      return state.key;
    },
    get bundle() {
      return state.bundle;
    },
    requests,
    auditBatches,
    publish,
    rotateKey(retireOld = false) {
      const next = generateKeyPairSync('ed25519').privateKey;
      if (retireOld) keys.length = 0;
      keys.push(next);
      state.key = next;
    },
    setAuditUpstream(url) {
      auditUpstream = url;
    },
    stop,
    async start() {
      server = http.createServer(handler);
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    close: stop,
  };
}
