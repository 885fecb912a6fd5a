import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SOURCE_ID_PATTERN } from '../../libs/contracts/src/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { CLI, runCli, startServer, type Server } from '../helpers/processes.js';
import { makeScanFixture, OSV_FIXTURES, upgradeFixture } from '../scans/fixture.js';
import { EXAMPLES_DIR, podSpecOf, render, type Container, type K8sObject } from './chart.js';

/**
 * The scheduled scan reports as one source across runs. Each run is a new pod: a new host name and, in the
 * image, no machine id, so without an explicit `--source-id` every run was a new source, whose findings never
 * resolved the previous run's. Here the rendered CronJob container runs for real twice, each time in its own
 * "pod" (own UTS and mount namespaces: its own host name, an empty /etc/machine-id as in the Debian-based image),
 * against a real control plane: the second run resolves what the first reported.
 */

const production = path.join(EXAMPLES_DIR, 'production.yaml');
const scanContainer = (objects: K8sObject[]): Container =>
  podSpecOf(objects.find((o) => o.kind === 'CronJob')!)!.containers[0]!;
const sourceIdOf = (c: Container) => c.args![c.args!.indexOf('--source-id') + 1];

async function withValues<T>(yaml: string, run: (file: string) => T): Promise<T> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-chart-values-'));
  try {
    await fs.writeFile(path.join(dir, 'values.yaml'), yaml);
    return run(path.join(dir, 'values.yaml'));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

describe('the scan CronJob passes a stable --source-id', () => {
  it('derived from the release (fullname), or the value scans.cronJob.sourceId', async () => {
    const c = scanContainer(render([production]).objects);
    expect(c.args).toContain('--source-id');
    expect(sourceIdOf(c)).toBe('agent-bom-scan');
    expect(SOURCE_ID_PATTERN.test(sourceIdOf(c)!)).toBe(true);
    const other = await withValues('fullnameOverride: payments-bom\n', (f) => render([production, f]));
    expect(sourceIdOf(scanContainer(other.objects))).toBe('payments-bom-scan');
    const named = await withValues('scans: { cronJob: { sourceId: "k8s:prod-eu:scan" } }\n', (f) =>
      render([production, f]),
    );
    expect(sourceIdOf(scanContainer(named.objects))).toBe('k8s:prod-eu:scan');
  });
});

describe('the rendered scan CronJob run twice, in two pods', () => {
  let db: TestDatabase;
  let server: Server;
  let fixture: Awaited<ReturnType<typeof makeScanFixture>>;
  let emptyHome: string;
  const keys: Record<string, string> = {};
  const c = scanContainer(render([production]).objects);

  beforeAll(async () => {
    db = await createTestDatabase();
    fixture = await makeScanFixture();
    emptyHome = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-scan-pod-home-'));
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' };
    delete env.NODE_OPTIONS;
    server = await startServer(['--port', '0'], env);
    expect((await runCli(['tenants', 'create', 'acme'], env)).code).toBe(0);
    for (const role of ['fleet-push', 'viewer'])
      keys[role] = (await runCli(['keys', 'create', '--tenant', 'acme', '--role', role], env)).stdout.trim();
    expect((await runCli(['db', 'import', OSV_FIXTURES, '--json'], env)).code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    await db?.drop();
    if (fixture) await fs.rm(fixture.root, { recursive: true, force: true });
    if (emptyHome) await fs.rm(emptyHome, { recursive: true, force: true });
  });

  /** The container's args and env (Secrets filled, cluster paths mapped) run as pod `pod`. */
  function runPod(pod: string) {
    const args = c.args!.map((a, i, all) =>
      all[i - 1] === '--push-url'
        ? `${server.url}/v1/results/push`
        : a === '/workspace'
          ? fixture.project
          : a,
    );
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      env[e.name] = ref
        ? ref.name === 'agent-bom-scan-push-key'
          ? keys['fleet-push']
          : db.url
        : e.name === 'HOME'
          ? emptyHome
          : e.value;
    }
    const inPod = [
      `hostname ${pod}`,
      'for f in /etc/machine-id /var/lib/dbus/machine-id; do [ -e $f ] && mount --bind /dev/null $f; done',
      'exec "$0" "$@"',
    ].join(' && ');
    return spawnSync('unshare', ['-mu', 'sh', '-c', inPod, process.execPath, CLI, ...args], {
      env,
      encoding: 'utf8',
      timeout: 90_000,
    });
  }
  const findings = async (query: string) => {
    const res = await fetch(`${server.url}/v1/findings?${query}`, {
      headers: { authorization: `Bearer ${keys.viewer}` },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: { source_id: string; advisory_id: string }[] }).items;
  };

  it('the second run replaces the first run’s report: its fixed vulnerabilities resolve', async () => {
    const first = runPod('agent-bom-scan-29000000-abcde');
    expect(first.stderr).toContain('pushed scan');
    const open = await findings('kind=vulnerability');
    expect(open.length).toBeGreaterThan(0);

    await upgradeFixture(fixture);
    const second = runPod('agent-bom-scan-29000360-fghij');
    expect(second.stderr).toContain('pushed scan');
    expect(await findings('kind=vulnerability')).toEqual([]);
    const all = await findings('status=all');
    expect(new Set(all.map((f) => f.source_id))).toEqual(new Set([sourceIdOf(c)]));
    expect((await findings('status=resolved')).map((f) => f.advisory_id).sort()).toEqual(
      open.map((f) => f.advisory_id).sort(),
    );
  }, 200_000);
});
