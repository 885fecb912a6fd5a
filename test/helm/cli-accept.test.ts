import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CASES, containersOf, podSpecOf, render, type Container, type K8sObject } from './chart.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { CLI, runCli, startServer } from '../helpers/processes.js';

/**
 * Every command line the chart renders is one the real CLI accepts: each flag is declared by that command's
 * `--help`, and each environment variable is one the built program reads. Then the rendered control-plane,
 * migration and gateway containers are run for real (their args and env, with Secrets filled by test values
 * and in-cluster addresses swapped for loopback ones): migrate applies the schema, the API becomes ready, the
 * gateway gets past its configuration and stops only because the control plane is unreachable (exit 1, not
 * the usage/configuration exit 2).
 */

/** Variables of the runtime, not of agent-bom. */
const STANDARD_ENV = new Set(['HOME', 'NODE_ENV', 'NODE_OPTIONS', 'TZ']);

/** Every `AGENT_BOM_*` (and plain) variable name the built program mentions. */
function envNamesRead(): Set<string> {
  const names = new Set(['DATABASE_URL', 'LOG_LEVEL', 'HOST', 'PORT']);
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (file.endsWith('.js'))
        for (const m of readFileSync(file, 'utf8').matchAll(/AGENT_BOM_[A-Z0-9_]+/g)) names.add(m[0]);
    }
  };
  walk(path.resolve('dist'));
  return names;
}

interface Flags {
  known: boolean;
  flags: Map<string, boolean>; // flag → takes a value
}
const helpCache = new Map<string, Flags>();
/** The flags a command declares, read from its real `--help`. */
function flagsOf(command: string[]): Flags {
  const key = command.join(' ');
  if (!helpCache.has(key)) {
    const result = spawnSync(process.execPath, [CLI, ...command, '--help'], { encoding: 'utf8' });
    const known =
      result.status === 0 &&
      result.stdout.startsWith(`Usage: agent-bom ${key} `) &&
      !/not built yet/.test(result.stdout);
    const flags = new Map<string, boolean>();
    for (const m of result.stdout.matchAll(/^ {2}(?:-\w, )?(--[a-z0-9-]+)( <[^>]+>| \[[^\]]+\])?/gm))
      flags.set(m[1]!, Boolean(m[2]));
    helpCache.set(key, { known, flags });
  }
  return helpCache.get(key)!;
}

/** Problems of one command line of the agent-bom CLI (argv after the program name). */
function commandProblems(argv: string[]): string[] {
  const command = argv[0] === 'gateway' ? argv.slice(0, 2) : argv.slice(0, 1);
  const { known, flags } = flagsOf(command);
  if (!known) return [`agent-bom ${command.join(' ')}: not a command of the CLI`];
  const problems: string[] = [];
  for (let i = command.length; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (!arg.startsWith('--')) {
      problems.push(`agent-bom ${command.join(' ')}: unexpected argument ${arg}`);
      continue;
    }
    if (!flags.has(arg)) problems.push(`agent-bom ${command.join(' ')}: unknown flag ${arg}`);
    else if (flags.get(arg)) i++;
  }
  return problems;
}

/** Command lines of our image's containers (args after the entry point), and the proxy line of the example's MCP config. */
function commandLines(objects: K8sObject[]): { where: string; argv: string[]; container?: Container }[] {
  const lines: { where: string; argv: string[]; container?: Container }[] = [];
  for (const object of objects) {
    const pod = podSpecOf(object);
    for (const c of pod ? containersOf(pod) : []) {
      if (!c.image.includes('agent-bom')) continue;
      if (c.command) continue; // the proxy example's installer: checked by the Dockerfile test
      lines.push({ where: `${object.metadata.name}/${c.name}`, argv: c.args ?? [], container: c });
    }
    if (object.kind === 'ConfigMap' && (object as { data?: Record<string, string> }).data?.['mcp.json']) {
      const config = JSON.parse(
        (object as unknown as { data: Record<string, string> }).data['mcp.json']!,
      ) as {
        mcpServers: Record<string, { command: string; args: string[] }>;
      };
      for (const [name, server] of Object.entries(config.mcpServers)) {
        expect(server.command).toBe('/opt/agent-bom/bin/agent-bom');
        lines.push({ where: `${object.metadata.name}:mcp.json:${name}`, argv: server.args });
      }
    }
  }
  return lines;
}

const renders = CASES.map(([name, files]) => [name, render(files).objects] as const);

describe('rendered command lines are accepted by the real CLI', () => {
  const read = envNamesRead();

  it.each(renders.map(([name]) => name))('%s: every flag is declared by its command', (name) => {
    const objects = renders.find(([n]) => n === name)![1];
    const problems = commandLines(objects).flatMap(({ where, argv }) =>
      commandProblems(argv).map((p) => `${where}: ${p}`),
    );
    expect(problems).toEqual([]);
    expect(commandLines(objects).length).toBeGreaterThan(0);
  });

  it.each(renders.map(([name]) => name))('%s: every variable is one the program reads', (name) => {
    const objects = renders.find(([n]) => n === name)![1];
    const overlayNames = new Set<string>();
    for (const cm of objects.filter((o) => o.kind === 'ConfigMap')) {
      for (const m of ((cm as { data?: Record<string, string> }).data?.['upstreams.yaml'] ?? '').matchAll(
        /token_env: "([A-Z0-9_]+)"/g,
      )) {
        overlayNames.add(m[1]!);
      }
    }
    const problems: string[] = [];
    for (const { where, container } of commandLines(objects)) {
      for (const { name: variable } of container?.env ?? []) {
        if (read.has(variable) || STANDARD_ENV.has(variable) || overlayNames.has(variable)) continue;
        problems.push(`${where}: ${variable} is read by nothing`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the check refuses an unknown flag, a flag of another command and an unknown command', () => {
    expect(commandProblems(['api', '--host', '0.0.0.0', '--bind', 'x'])).toEqual([
      'agent-bom api: unknown flag --bind',
      'agent-bom api: unexpected argument x',
    ]);
    expect(commandProblems(['gateway', 'serve', '--port', '1'])).toEqual([
      'agent-bom gateway serve: unknown flag --port',
      'agent-bom gateway serve: unexpected argument 1',
    ]);
    expect(commandProblems(['serve-all'])).toEqual(['agent-bom serve-all: not a command of the CLI']);
    expect(commandProblems(['proxy', '--detect-credentials', '--', 'npx', '--anything'])).toEqual([]);
  });
});

describe('rendered containers run with their args and env', () => {
  let db: TestDatabase;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'agent-bom-chart-run-'));
  const production = renders.find(([n]) => n === 'production.yaml')![1];
  const find = (objects: readonly K8sObject[], kind: string, name: string) =>
    podSpecOf(objects.find((o) => o.kind === kind && o.metadata.name === name)!)!.containers[0]!;

  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** The container's env with Secrets filled by test values and mounted paths mapped to temp files. */
  function envOf(c: Container): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      let value = ref
        ? ref.key === 'DATABASE_URL'
          ? db.url
          : `test-${ref.name}-${ref.key}-0123456789abcdef0123456789`
        : e.value!;
      if (/^\/etc\/agent-bom\/signing(-previous)?\//.test(value))
        value = process.env.AGENT_BOM_TEST_SIGNING_KEY_FILE!;
      if (value === '/var/lib/agent-bom') value = dir;
      env[e.name] = value;
    }
    return env;
  }

  it('migrate: the hook Job applies the schema', async () => {
    const c = find(production, 'Job', 'agent-bom-migrate');
    const result = await runCli(c.args!, envOf(c));
    expect(result.stderr).not.toMatch(/unknown option|invalid configuration/);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toBeTruthy();
  });

  it('api: the control plane starts with the rendered args and env and is ready', async () => {
    const c = find(production, 'Deployment', 'agent-bom-api');
    const args = c
      .args!.slice(1)
      .map((a, i, all) => (all[i - 1] === '--host' ? '127.0.0.1' : all[i - 1] === '--port' ? '0' : a));
    // The example's IdPs do not exist here: SSO settings are left out of the run (their names are checked above;
    // the sso suites run the real IdPs).
    const env = Object.fromEntries(
      Object.entries(envOf(c)).filter(([name]) => !/^AGENT_BOM_(OIDC|SAML)_/.test(name)),
    );
    const server = await startServer(args, env);
    try {
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  // gateway-multi-replica: the shared limiter and session key; production: the public URL (OIDC at the edge) and
  // the audit file, which the gateway opens in the data volume (here a temp dir) before it reads discovery.
  it.each(['gateway-multi-replica.yaml', 'production.yaml'])(
    'gateway (%s): passes configuration and stops only at the unreachable control plane',
    async (name) => {
      const objects = renders.find(([n]) => n === name)![1];
      const c = find(objects, 'Deployment', 'agent-bom-gateway');
      const overlay = (
        objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'agent-bom-gateway') as unknown as {
          data: Record<string, string>;
        }
      ).data['upstreams.yaml']!;
      const config = mkdtempSync(path.join(dir, 'config-'));
      const data = mkdtempSync(path.join(dir, 'data-'));
      writeFileSync(path.join(config, 'upstreams.yaml'), overlay);
      const args = c.args!.map((a, i, all) =>
        all[i - 1] === '--bind'
          ? '127.0.0.1:0'
          : all[i - 1] === '--from-control-plane'
            ? 'https://127.0.0.1:1'
            : a.replace('/etc/agent-bom/gateway', config).replace('/var/lib/agent-bom/gateway', data),
      );
      expect(args).toContain('--state-dir');
      const result = await runCli(args, envOf(c));
      expect(result.stderr).toMatch(/cannot read discovery from https:\/\/127\.0\.0\.1:1/);
      expect(result.code).toBe(1);
      if (name === 'production.yaml') {
        expect(c.env!.map((e) => e.name)).toContain('AGENT_BOM_GATEWAY_PUBLIC_URL');
        expect(readdirSync(data)).toContain('audit.jsonl');
      }
    },
  );
});
