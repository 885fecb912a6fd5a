import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FleetAgent, FleetServer, FleetSyncPayload } from '../../libs/contracts/src/index.js';
import { startHttpMcpServer, type HttpMcpServer } from '../helpers/mcp-http.js';
import { CLI, isAlive, runCli, waitFor } from '../helpers/processes.js';
import { pushUsageErrors } from '../helpers/push-usage.js';
import { envelope, startScriptedServer, type ScriptedServer } from '../helpers/scripted-http.js';

/**
 * `agent-bom agents` as a user runs it: the built CLI against fixture homes, real MCP servers (stdio from npm,
 * streamable HTTP and SSE on loopback), a scripted control plane, and planted secrets that must appear nowhere.
 */
const SERVERS = path.resolve('test/fixtures/servers');
const EVERYTHING = path.resolve('node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const FIXTURE_HOMES = path.resolve('test/fixtures/homes');
const FIXTURE_PROJECT = path.resolve('test/fixtures/projects/app');
const node = process.execPath;
const KEY = 'abom_' + 'e2ePushKey'.repeat(4) + 'xyz';

interface Output {
  payload: FleetSyncPayload;
  warnings: Array<{ path: string; client: string; message: string }>;
  push: null | {
    ok: boolean;
    url: string;
    idempotency_key?: string;
    result?: unknown;
    error?: { message: string };
  };
}

let root: string;
let env: NodeJS.ProcessEnv;
let streamable: HttpMcpServer;
let legacy: HttpMcpServer;

async function put(file: string, content: string | object) {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
}

function findServer(payload: FleetSyncPayload, agent: string, name: string): FleetServer {
  const found = payload.agents
    .find((a: FleetAgent) => a.name === agent)
    ?.servers.find((s) => s.name === name);
  if (!found)
    throw new Error(`no server ${agent}/${name} in ${JSON.stringify(payload.agents.map((a) => a.name))}`);
  return found;
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'abom-agents-e2e-'));
  // Nothing of the developer's own environment: no AGENT_BOM_* and a home with nothing in it.
  env = { PATH: process.env.PATH, HOME: path.join(root, 'empty-home'), LANG: 'C' };
  streamable = await startHttpMcpServer({
    tools: ['search', 'fetch'],
    sse: false,
    name: 'remote-streamable',
  });
  legacy = await startHttpMcpServer({ tools: ['old_tool'], streamable: false, name: 'remote-sse' });
});
afterAll(async () => {
  await Promise.all([streamable.close(), legacy.close()]);
  await fs.rm(root, { recursive: true, force: true });
});

describe('agent-bom agents: discovery on fixture homes', () => {
  it.each([
    [
      'linux',
      [
        'claude-desktop',
        'claude-code',
        'cursor',
        'windsurf',
        'vscode',
        'cline',
        'continue',
        'zed',
        'gemini-cli',
        'codex',
        'goose',
      ],
    ],
    ['darwin', ['claude-desktop', 'cursor', 'vscode', 'zed']],
    ['win32', ['claude-desktop', 'vscode', 'zed', 'goose']],
  ])('--os %s reads that layout', async (layout, agents) => {
    const result = await runCli(
      ['agents', '--home', path.join(FIXTURE_HOMES, layout), '--os', layout, '--preset', 'minimal', '--json'],
      env,
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const output: Output = JSON.parse(result.stdout);
    expect(output.payload.agents.map((a) => a.name)).toEqual(agents);
    expect(output.warnings).toEqual([]);
    expect(output.push).toBeNull();
  });

  it('the human table lists every server; warnings go to stderr', async () => {
    const home = path.join(root, 'table-home');
    await fs.cp(path.join(FIXTURE_HOMES, 'linux'), home, { recursive: true });
    await put(path.join(home, '.gemini/settings.json'), '{ not json');
    const result = await runCli(
      ['agents', '--home', home, '--os', 'linux', '--project', FIXTURE_PROJECT],
      env,
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^15 agent\(s\), 23 server\(s\) from 16 config file\(s\); source id ep-[0-9a-f]{32}\n/,
    );
    expect(result.stdout).toMatch(/\nAGENT +SERVER +TRANSPORT +COMMAND \/ URL +AUTH +CREDENTIALS +TOOLS\n/);
    expect(result.stdout).toMatch(
      /\nclaude-desktop +github +stdio +docker run .* +env +GITHUB_PERSONAL_ACCESS_TOKEN +-\n/,
    );
    expect(result.stdout).toContain(`project:${FIXTURE_PROJECT}`);
    expect(result.stderr).toBe(
      `warning: ${home}/.gemini/settings.json: not valid JSON (line 1, column 3); skipped\n`,
    );
    expect(result.stderr).not.toContain('introspecting'); // no progress bar off a terminal

    const strict = await runCli(['agents', '--home', home, '--os', 'linux', '--strict', '--json'], env);
    expect(strict.code).toBe(3);
    expect(JSON.parse(strict.stdout).warnings).toHaveLength(1);
  });

  it('a hostile home: warnings, exit 0, quickly', async () => {
    const home = path.join(root, 'hostile-home');
    await put(path.join(home, '.cursor/mcp.json'), '{"mcpServers": {"a": ');
    await put(path.join(home, '.gemini/settings.json'), '{}');
    await fs.truncate(path.join(home, '.gemini/settings.json'), 50 * 1024 * 1024);
    await put(
      path.join(home, '.codeium/windsurf/mcp_config.json'),
      '{"mcpServers":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}',
    );
    await put(path.join(home, '.config/Claude/claude_desktop_config.json'), {
      mcpServers: { a: 1, b: { command: ['x'] } },
    });
    await fs.mkdir(path.join(home, '.claude'), { recursive: true });
    await fs.symlink(path.join(home, '.claude/x'), path.join(home, '.claude/settings.json'));
    await fs.symlink(path.join(home, '.claude/settings.json'), path.join(home, '.claude/x'));
    const started = Date.now();
    const result = await runCli(['agents', '--home', home, '--os', 'linux', '--json', '--introspect'], env);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.code).toBe(0);
    const output: Output = JSON.parse(result.stdout);
    expect(output.warnings.map((w) => path.relative(home, w.path))).toEqual([
      '.config/Claude/claude_desktop_config.json',
      '.config/Claude/claude_desktop_config.json',
      '.claude/settings.json',
      '.cursor/mcp.json',
      '.codeium/windsurf/mcp_config.json',
      '.gemini/settings.json',
    ]);
  });

  it.each<[string[], string]>([
    [['--preset', 'bogus'], "argument 'bogus' is invalid"],
    [['--timeout', '0'], 'must be a number of seconds'],
    [['--concurrency', '100'], 'must be 1-64'],
    [['--os', 'plan9'], "argument 'plan9' is invalid"],
    ...pushUsageErrors(KEY),
  ])('usage error %j exits 2', async (args, message) => {
    const result = await runCli(['agents', '--home', path.join(root, 'nothing'), ...args], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toContain(KEY);
    expect(result.stdout).toBe('');
  });
});

describe('agent-bom agents --introspect against real servers', () => {
  let home: string;
  let project: string;
  let record: string;
  beforeAll(async () => {
    home = path.join(root, 'live-home');
    project = path.join(root, 'live-repo');
    record = path.join(root, 'live-methods.log');
    await put(path.join(home, '.config/Claude/claude_desktop_config.json'), {
      mcpServers: {
        everything: { command: node, args: [EVERYTHING, 'stdio'] },
        recorder: {
          command: node,
          args: [path.join(SERVERS, 'recording-stdio.mjs')],
          env: { RECORD_FILE: record },
        },
      },
    });
    await put(path.join(home, '.cursor/mcp.json'), {
      mcpServers: { remote: { url: `${streamable.url}/mcp` } },
    });
    await put(path.join(home, '.codeium/windsurf/mcp_config.json'), {
      mcpServers: { legacy: { serverUrl: `${legacy.url}/sse` } },
    });
    await put(
      path.join(home, '.codex/config.toml'),
      '[mcp_servers.ghost]\ncommand = "agent-bom-no-such-command"\n',
    );
    await put(path.join(project, '.mcp.json'), {
      mcpServers: {
        'repo-stdio': {
          command: node,
          args: [path.join(SERVERS, 'recording-stdio.mjs')],
          env: { RECORD_FILE: record },
        },
        'repo-remote': { type: 'http', url: `${streamable.url}/mcp` },
      },
    });
  });

  it('records live tools per server; failures and skips are per server; tools/call is never sent', async () => {
    const result = await runCli(
      [
        'agents',
        '--home',
        home,
        '--os',
        'linux',
        '--project',
        project,
        '--introspect',
        '--json',
        '--source-id',
        'e2e-host',
      ],
      env,
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(''); // --json: no progress, no chatter
    const { payload, warnings, push }: Output = JSON.parse(result.stdout);
    expect(warnings).toEqual([]);
    expect(push).toBeNull();
    expect(payload).toMatchObject({
      source_id: 'e2e-host',
      endpoint: { agent_bom_version: '0.1.0', os: process.platform, hostname: os.hostname() },
      collected_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    expect(payload.agents.map((a) => [a.name, a.client])).toEqual([
      ['claude-desktop', 'claude-desktop'],
      ['cursor', 'cursor'],
      ['windsurf', 'windsurf'],
      ['codex', 'codex'],
      [`project:${project}`, 'project'],
    ]);
    expect(findServer(payload, 'claude-desktop', 'everything').introspection).toMatchObject({
      status: 'ok',
      server_name: 'mcp-servers/everything',
      tools: expect.arrayContaining(['echo']),
    });
    expect(findServer(payload, 'claude-desktop', 'recorder').introspection).toMatchObject({
      status: 'ok',
      tools: ['alpha', 'beta', 'delta', 'epsilon', 'gamma'],
    });
    expect(findServer(payload, 'cursor', 'remote')).toMatchObject({
      transport: 'http',
      introspection: { status: 'ok', tools: ['fetch', 'search'], server_name: 'remote-streamable' },
    });
    expect(findServer(payload, 'windsurf', 'legacy')).toMatchObject({
      transport: 'sse',
      introspection: { status: 'ok', tools: ['old_tool'], server_name: 'remote-sse' },
    });
    expect(findServer(payload, 'codex', 'ghost').introspection).toMatchObject({
      status: 'failed',
      error: 'cannot start "agent-bom-no-such-command": command not found',
    });
    expect(findServer(payload, `project:${project}`, 'repo-stdio').introspection).toMatchObject({
      status: 'skipped',
    });
    expect(findServer(payload, `project:${project}`, 'repo-remote').introspection).toMatchObject({
      status: 'ok',
    });

    const methods = (await fs.readFile(record, 'utf8')).trim().split('\n');
    expect(methods).toEqual([
      'initialize',
      'notifications/initialized',
      'tools/list',
      'tools/list',
      'tools/list',
    ]);
    expect([...streamable.methods, ...legacy.methods]).not.toContain('tools/call');
  }, 60_000);

  it('--preset enterprise introspects; --no-introspect wins over it', async () => {
    const enterprise = await runCli(
      ['agents', '--home', home, '--os', 'linux', '--preset', 'enterprise', '--json'],
      env,
    );
    const introspected = JSON.parse(enterprise.stdout) as Output;
    expect(findServer(introspected.payload, 'cursor', 'remote').introspection?.status).toBe('ok');

    const off = await runCli(
      ['agents', '--home', home, '--os', 'linux', '--preset', 'enterprise', '--no-introspect', '--json'],
      env,
    );
    expect(
      findServer((JSON.parse(off.stdout) as Output).payload, 'cursor', 'remote').introspection,
    ).toBeUndefined();
  }, 60_000);

  it('SIGTERM while introspecting kills the servers it started', async () => {
    const hangHome = path.join(root, 'hang-home');
    const pidFile = path.join(root, 'sigterm.pids');
    await put(path.join(hangHome, '.cursor/mcp.json'), {
      mcpServers: {
        hang: { command: node, args: [path.join(SERVERS, 'hang.mjs')], env: { PID_FILE: pidFile } },
      },
    });
    const child = spawn(
      node,
      [CLI, 'agents', '--home', hangHome, '--os', 'linux', '--introspect', '--timeout', '60', '--json'],
      {
        env,
        stdio: 'ignore',
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor(async () => (await fs.readFile(pidFile, 'utf8').catch(() => '')).includes(' '), 10_000);
    const [server, grandchild] = (await fs.readFile(pidFile, 'utf8')).split(' ').map(Number);
    expect(isAlive(server)).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    await waitFor(() => !isAlive(server) && !isAlive(grandchild), 5000);
  }, 30_000);
});

describe('agent-bom agents --push-url', () => {
  let home: string;
  let control: ScriptedServer | undefined;
  beforeAll(async () => {
    home = path.join(root, 'push-home');
    await put(path.join(home, '.cursor/mcp.json'), {
      mcpServers: { remote: { url: 'https://mcp.example.com/mcp' } },
    });
  });
  afterAll(async () => {
    await control?.close();
  });
  const synced = { status: 200, body: { source_id: 'ep-x', synced: 1, new: 1, updated: 0 } };
  const run = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    runCli(['agents', '--home', home, '--os', 'linux', '--preset', 'minimal', ...args], {
      ...env,
      ...extraEnv,
    });

  it('pushes exactly the payload it prints, with the key and an idempotency key', async () => {
    control = await startScriptedServer([synced]);
    const result = await run([
      '--push-url',
      control.url,
      '--push-api-key',
      KEY,
      '--json',
      '--owner',
      'sec',
      '--tag',
      'a',
      '--tag',
      'b',
    ]);
    expect(result.code).toBe(0);
    const output: Output = JSON.parse(result.stdout);
    expect(output.push).toMatchObject({ ok: true, url: `${control.url}/v1/fleet/sync`, result: synced.body });
    const [request] = control.requests;
    expect(request.path).toBe('/v1/fleet/sync');
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request.headers['idempotency-key']).toBe(output.push!.idempotency_key);
    expect(JSON.parse(request.body)).toEqual(output.payload);
    expect(output.payload.endpoint).toMatchObject({ owner: 'sec', tags: ['a', 'b'] });
    expect(result.stdout + result.stderr).not.toContain(KEY);
    await control.close();
  });

  it('takes URL and key from the environment; prints a line on success', async () => {
    control = await startScriptedServer([synced]);
    const result = await run([], {
      AGENT_BOM_PUSH_URL: `${control.url}/v1/fleet/sync`,
      AGENT_BOM_PUSH_API_KEY: KEY,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`pushed 1 agent(s) to ${control.url}/v1/fleet/sync: 1 new, 0 updated\n`);
    expect(control.requests[0].headers.authorization).toBe(`Bearer ${KEY}`);
    expect(result.stdout + result.stderr).not.toContain(KEY);
    await control.close();
  });

  it('retries a 503 with the same idempotency key and says so', async () => {
    control = await startScriptedServer([
      { status: 503, body: envelope('SERVICE_UNAVAILABLE', 'starting') },
      synced,
    ]);
    const result = await run(['--push-url', control.url, '--push-api-key', KEY]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^push attempt 1 failed \(HTTP 503\); retrying in \d\.\ds\n$/);
    expect(control.requests).toHaveLength(2);
    expect(control.requests[0].headers['idempotency-key']).toBe(
      control.requests[1].headers['idempotency-key'],
    );
    await control.close();
  });

  it.each([
    [401, 'UNAUTHENTICATED', 'invalid API key', 'the key was refused by the control plane'],
    [
      403,
      'FORBIDDEN',
      'missing permission fleet:write',
      "this key's role cannot push fleet inventory; use a fleet-push key",
    ],
    [400, 'VALIDATION_ERROR', 'agents[0].client must be one of …', 'agents[0].client must be one of …'],
  ])(
    '%i: exit 1 with a clear message, still printing the inventory',
    async (status, code, message, expected) => {
      control = await startScriptedServer([{ status, body: envelope(code, message) }]);
      const result = await run(['--push-url', control.url, '--push-api-key', KEY, '--json']);
      expect(result.code).toBe(1);
      expect(control.requests).toHaveLength(1);
      expect(result.stderr).toContain(`agent-bom agents: push failed: `);
      expect(result.stderr).toContain(expected);
      const output: Output = JSON.parse(result.stdout);
      expect(output.push).toMatchObject({ ok: false, error: { message: expect.stringContaining(expected) } });
      expect(result.stdout + result.stderr).not.toContain(KEY);
      await control.close();
    },
  );
});

describe('secrets planted in every config shape appear nowhere', () => {
  it('not in stdout (JSON or table), stderr, nor the pushed payload', async () => {
    const secret = (label: string) => `${label}${Math.random().toString(36).slice(2)}Zq9`;
    const secrets = {
      env: secret('envval'),
      toml: secret('tomlval'),
      yaml: secret('yamlval'),
      zed: secret('zedval'),
      header: secret('hdrval'),
      apiKeyHeader: secret('xkeyval'),
      userinfo: secret('userinfo'),
      query: secret('queryval'),
      flagEq: secret('flageq'),
      flagSep: secret('flagsep'),
      broken: secret('brokenval'),
      stderrEnv: secret('stderrval'),
    };
    const guarded = await startHttpMcpServer({
      tools: ['guarded_tool'],
      requireAuthorization: `Bearer ${secrets.header}`,
    });
    const control = await startScriptedServer([
      { status: 200, body: { source_id: 's', synced: 1, new: 0, updated: 1 } },
    ]);
    const home = path.join(root, 'secret-home');
    try {
      await put(path.join(home, '.config/Claude/claude_desktop_config.json'), {
        mcpServers: {
          // prints its whole environment to stderr on start
          chatty: {
            command: node,
            args: [
              path.join(SERVERS, 'recording-stdio.mjs'),
              `--token=${secrets.flagEq}`,
              '--api-key',
              secrets.flagSep,
            ],
            env: { GITHUB_TOKEN: secrets.env, HARMLESS_NAME: secrets.stderrEnv },
          },
        },
      });
      await put(path.join(home, '.cursor/mcp.json'), {
        mcpServers: {
          guarded: {
            url: `${guarded.url}/mcp?api_key=${secrets.query}`,
            headers: { Authorization: `Bearer ${secrets.header}`, 'X-Api-Key': secrets.apiKeyHeader },
          },
          userinfo: { url: `${legacy.url.replace('http://', `http://svc:${secrets.userinfo}@`)}/sse` },
        },
      });
      await put(
        path.join(home, '.codex/config.toml'),
        `[mcp_servers.t]\ncommand = "x"\nenv = { "DB_PASSWORD" = "${secrets.toml}" }\n`,
      );
      await put(
        path.join(home, '.config/goose/config.yaml'),
        `extensions:\n  y:\n    type: stdio\n    cmd: x\n    envs:\n      SLACK_TOKEN: ${secrets.yaml}\n`,
      );
      await put(path.join(home, '.config/zed/settings.json'), {
        context_servers: { z: { command: { path: 'x', args: [], env: { API_KEY: secrets.zed } } } },
      });
      await put(
        path.join(home, '.gemini/settings.json'),
        `{"mcpServers": {"g": {"env": {"K": "${secrets.broken}"}} `,
      );

      const runs = [
        await runCli(
          [
            'agents',
            '--home',
            home,
            '--os',
            'linux',
            '--introspect',
            '--json',
            '--push-url',
            control.url,
            '--push-api-key',
            KEY,
          ],
          env,
        ),
        await runCli(['agents', '--home', home, '--os', 'linux', '--introspect'], env),
      ];
      const output: Output = JSON.parse(runs[0].stdout);
      // the secrets were really used: the guarded server let us in, the chatty one ran
      expect(findServer(output.payload, 'cursor', 'guarded')).toMatchObject({
        auth_mode: 'url',
        credential_header_names: ['Authorization', 'X-Api-Key'],
        introspection: { status: 'ok', tools: ['guarded_tool'] },
      });
      expect(findServer(output.payload, 'cursor', 'userinfo').introspection?.status).toBe('ok');
      expect(findServer(output.payload, 'claude-desktop', 'chatty')).toMatchObject({
        args: [path.join(SERVERS, 'recording-stdio.mjs'), '--token=[redacted]', '--api-key', '[redacted]'],
        credential_env_names: ['GITHUB_TOKEN'],
        introspection: { status: 'ok' },
      });
      expect(output.warnings).toHaveLength(1);

      const everything = [
        ...runs.flatMap((r) => [r.stdout, r.stderr]),
        ...control.requests.map((r) => r.body + JSON.stringify(r.headers).replace(`Bearer ${KEY}`, '')),
      ].join('\n');
      expect(control.requests).toHaveLength(1);
      for (const [where, value] of Object.entries(secrets)) {
        expect({ where, found: everything.includes(value) }).toEqual({ where, found: false });
      }
      expect(runs.map((r) => r.stdout + r.stderr).join('')).not.toContain(KEY);
    } finally {
      await guarded.close();
      await control.close();
    }
  }, 60_000);
});
