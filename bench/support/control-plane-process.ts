/**
 * A benchmark control plane in a process of its own, so the load generator does not share its CPU and /proc
 * gives its CPU per request: `node control-plane-process.js ROLE…` starts startBenchControlPlane (env from
 * process.env), creates one API key per role and prints
 * `ready {"baseUrl","tenant","keys":{role:key},"databaseUrl","database"}` (its own database, for a benchmark that
 * points a gateway's limiter at it or watches PostgreSQL's CPU for it); SIGTERM closes it (and drops its scratch
 * database).
 */
import type { Server } from 'node:http';
import type { Role } from '../../libs/contracts/src/index.js';
import { startBenchControlPlane } from './control-plane.js';

const cp = await startBenchControlPlane();
const keys: Record<string, string> = {};
for (const role of process.argv.slice(2)) keys[role] = await cp.key(role as Role);
process.stdout.write(
  `ready ${JSON.stringify({ baseUrl: cp.baseUrl, tenant: cp.tenant, keys, databaseUrl: cp.databaseUrl, database: cp.database })}\n`,
);
process.once('SIGTERM', () => {
  // Keep-alive connections of the benchmark's clients would hold the graceful close (and a CPU profile) hostage.
  (cp.app.getHttpServer() as Server).closeAllConnections();
  void cp.close().then(() => process.exit(0));
});
