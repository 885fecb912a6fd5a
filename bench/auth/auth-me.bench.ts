import { httpCandidate, interleave } from '../support/load.js';
import { Children, startControlPlaneProcess } from '../support/processes.js';
import { ratio, type Scenario } from '../support/result.js';

/**
 * Authenticated `GET /v1/auth/me` (guard, key cache, permission check, handler) beside the unauthenticated
 * `GET /healthz` limit line, on one real control plane in its own process, interleaved in rounds, same connection count.
 * Uses DATABASE_URL when set, else a throw-away embedded PostgreSQL.
 */
export async function run(options: {
  seconds: number;
  rounds: number;
  connections?: number;
}): Promise<Scenario[]> {
  const connections = options.connections ?? 50;
  const children = new Children();
  try {
    const cp = await startControlPlaneProcess(children, ['viewer']);
    const key = cp.keys.viewer;
    const pids = () => [cp.pid];
    const measurements = await interleave(
      [
        httpCandidate('GET /healthz', 'limit', { url: `${cp.baseUrl}/healthz` }, connections, pids),
        httpCandidate(
          'GET /v1/auth/me',
          'system',
          { url: `${cp.baseUrl}/v1/auth/me`, headers: { authorization: `Bearer ${key}` } },
          connections,
          pids,
        ),
      ],
      { concurrency: connections, seconds: options.seconds, rounds: options.rounds },
    );
    return [
      {
        benchmark: 'auth',
        name: 'authenticated GET /v1/auth/me beside GET /healthz',
        unit: 'request',
        concurrency: connections,
        measurements,
        ratios: [
          ratio(
            measurements,
            'auth.me_vs_healthz',
            'GET /v1/auth/me / GET /healthz',
            'GET /v1/auth/me',
            'GET /healthz',
            'perSecond',
            'higher',
          ),
        ],
      },
    ];
  } finally {
    await children.stopAll();
  }
}
