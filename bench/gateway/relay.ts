import http from 'node:http';
import { Pool } from 'undici';

/**
 * The limit lines of the gateway benchmarks, run as their own process; print `listening PORT`.
 *
 * `node relay.js PORT UPSTREAM_URL`: the simplest relay that does the gateway's transport job: Node http in, an
 * undici pool out, the request body streamed up, the answer's status, type, length and session header streamed
 * back. No auth, no policy, no parsing, no audit: what any check the gateway adds is measured against.
 *
 * `node relay.js PORT UPSTREAM_URL checks CONTROL_PLANE_URL GATEWAY_KEY POLICY_FILE CLIENT_KEY`: `relay + checks`,
 * the same transport doing by hand the work the `gateway on` goal requires of a call (relay-checks.ts).
 *
 * `node relay.js PORT UPSTREAM_URL checks-fastify …` (the same arguments): `relay + checks, Fastify`, those checks
 * behind the simplest Fastify app (relay-checks-fastify.ts).
 */
const upstream = new URL(process.argv[3]);
const pool = new Pool(upstream.origin, { connections: 512, pipelining: 1, keepAliveTimeout: 60_000 });
const FORWARDED = ['content-type', 'accept', 'mcp-session-id', 'mcp-protocol-version', 'content-length'];
const RETURNED = ['content-type', 'content-length', 'mcp-session-id', 'transfer-encoding'];

const plain = (req: http.IncomingMessage, res: http.ServerResponse) => {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  pool
    .request({
      path: upstream.pathname,
      method: req.method as 'GET' | 'POST',
      headers,
      body: req.method === 'POST' ? req : undefined,
    })
    .then((answer) => {
      const out: Record<string, string> = {};
      for (const name of RETURNED) {
        const value = answer.headers[name];
        if (typeof value === 'string') out[name] = value;
      }
      res.writeHead(answer.statusCode, out);
      answer.body.pipe(res);
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502, { 'content-length': '0' });
      res.end();
    });
};

const [mode, controlPlane, gatewayKey, policyFile, clientKey] = process.argv.slice(4);
const checks = { controlPlane, gatewayKey, policyFile, clientKey, upstream, pool };
if (mode === 'checks-fastify') {
  const { startFastifyChecks } = await import('./relay-checks-fastify.js');
  process.stdout.write(`listening ${await startFastifyChecks(Number(process.argv[2] ?? 0), checks)}\n`);
} else {
  const server = http.createServer(
    mode === 'checks' ? await (await import('./relay-checks.js')).checkedHandler(checks) : plain,
  );
  server.keepAliveTimeout = 65_000;
  server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
  });
}
// A clean exit on SIGTERM, so a `--cpu-prof` profile is written (BENCH_CPU_PROF).
process.on('SIGTERM', () => process.exit(0));
