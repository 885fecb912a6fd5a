import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ScanReport } from '../../libs/contracts/src/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startHttpMcpServer, type HttpMcpServer } from '../helpers/mcp-http.js';
import { CLI, isAlive, runCli, startServer, waitFor, type Server } from '../helpers/processes.js';
import { OSV_FIXTURES } from '../scans/fixture.js';

/**
 * `agent-bom scan --introspect` with real processes and real MCP peers: @modelcontextprotocol/server-everything
 * spawned over stdio, an SDK server over streamable HTTP on loopback, a stdio server that hangs (with a
 * grandchild) and one that crashes. Live tools feed the tool-drift finding and the graph's server → tool edges;
 * a server that hangs or crashes is a warning, never a failed scan; without --introspect nothing is started.
 */
const EVERYTHING = path.resolve('node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const SERVERS = path.resolve('test/fixtures/servers');
const PLANTED = 'planted-introspect-secret-92b7';

describe('agent-bom scan --introspect', () => {
  let db: TestDatabase;
  let root: string;
  let env: NodeJS.ProcessEnv;
  let server: Server;
  let jira: HttpMcpServer;
  const keys: Record<string, string> = {};
  const home = () => path.join(root, 'home');
  const pidFile = () => path.join(root, 'hang.pid');

  const scan = (...extra: string[]) =>
    runCli(
      [
        'scan',
        ...['--home', home(), '--os', 'linux', '--project', path.join(root, 'empty-project')],
        ...['--advisories', OSV_FIXTURES, '--source-id', 'ci-introspect', '--hostname', 'ci-introspect'],
        ...extra,
      ],
      env,
      120_000,
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-scan-introspect-'));
    await fs.mkdir(path.join(root, 'empty-project'));
    env = { ...process.env, DATABASE_URL: '', LOG_LEVEL: 'warn', XDG_CONFIG_HOME: path.join(root, 'config') };
    delete env.NODE_OPTIONS;
    server = await startServer(['--port', '0'], { ...env, DATABASE_URL: db.url });
    const cli = { ...env, DATABASE_URL: db.url };
    expect((await runCli(['tenants', 'create', 'acme'], cli)).code).toBe(0);
    for (const role of ['fleet-push', 'viewer']) {
      keys[role] = (await runCli(['keys', 'create', '--tenant', 'acme', '--role', role], cli)).stdout.trim();
    }
    jira = await startHttpMcpServer({
      tools: ['search_issues', 'create_issue', 'run_command'],
      name: 'jira',
    });
    const config = {
      mcpServers: {
        // Declares one tool; the live server has more (tool drift).
        everything: { command: process.execPath, args: [EVERYTHING, 'stdio'], tools: ['echo'] },
        jira: { url: `${jira.url}/mcp`, tools: ['search_issues'] },
        hang: {
          command: process.execPath,
          args: [path.join(SERVERS, 'hang.mjs')],
          env: { PID_FILE: pidFile() },
        },
        crash: {
          command: process.execPath,
          args: [path.join(SERVERS, 'crash.mjs')],
          env: { CRASH_TOKEN: PLANTED },
        },
      },
    };
    await fs.mkdir(path.join(home(), '.config/Claude'), { recursive: true });
    await fs.writeFile(
      path.join(home(), '.config/Claude/claude_desktop_config.json'),
      JSON.stringify(config, null, 2),
    );
  }, 180_000);

  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    await jira?.close();
    await fs.rm(root, { recursive: true, force: true });
    await db?.drop();
  });

  it('without --introspect no server is started or contacted, and there is no drift', async () => {
    const run = await scan('--format', 'json');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as ScanReport;
    expect(report.findings.filter((f) => f.kind === 'tool_drift')).toEqual([]);
    expect(jira.methods).toEqual([]);
    await expect(fs.access(pidFile())).rejects.toThrow();
  }, 120_000);

  it('lists live tools over stdio and streamable HTTP; hang and crash are warnings; --format json stays quiet', async () => {
    const run = await scan('--introspect', '--timeout', '5', '--format', 'json');
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    // stdout is the document alone; stderr carries the one warning about starting servers, no progress bar.
    const report = JSON.parse(run.stdout) as ScanReport;
    expect(run.stderr).toContain('--introspect starts 3 stdio server(s)');
    expect(run.stderr).not.toContain('introspecting [');
    expect(run.stdout + run.stderr).not.toContain(PLANTED);

    const servers = Object.fromEntries(report.agents.flatMap((a) => a.servers).map((s) => [s.name, s]));
    expect(servers.everything.introspection).toMatchObject({ status: 'ok' });
    expect(servers.everything.introspection?.tools).toEqual(expect.arrayContaining(['echo', 'get-sum']));
    expect(servers.jira.introspection).toMatchObject({
      status: 'ok',
      tools: ['create_issue', 'run_command', 'search_issues'],
    });
    expect(servers.hang.introspection).toMatchObject({ status: 'failed', error: 'timed out after 5s' });
    expect(servers.crash.introspection).toMatchObject({ status: 'failed' });
    expect(report.warnings.map((w) => w.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^introspection of claude-desktop\/hang failed: timed out after 5s$/),
        expect.stringMatching(/^introspection of claude-desktop\/crash failed: server exited \(code 3\)/),
      ]),
    );

    const drift = report.findings.filter((f) => f.kind === 'tool_drift');
    expect(drift.map((f) => [f.title, f.tools])).toEqual(
      expect.arrayContaining([
        [expect.stringContaining('jira: live tools differ'), ['+create_issue', '+run_command']],
        [expect.stringContaining('everything: live tools differ'), expect.arrayContaining(['+get-sum'])],
      ]),
    );
    // The live tools classify too: run_command is an execute surface.
    expect(
      report.findings.find((f) => f.kind === 'dangerous_tool' && f.servers.some((s) => s.endsWith('jira'))),
    ).toBeDefined();
    expect(jira.methods).not.toContain('tools/call');
    // The hung server and its grandchild were killed.
    const [pid, grandchild] = (await fs.readFile(pidFile(), 'utf8')).split(' ').map(Number);
    await waitFor(() => !isAlive(pid) && !isAlive(grandchild), 10_000);
  }, 120_000);

  it('a pushed introspected scan gives the graph server → tool edges for the live tools', async () => {
    const run = await scan(
      '--introspect',
      '--timeout',
      '5',
      '--push-url',
      server.url,
      '--push-api-key',
      keys['fleet-push'],
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('tool_drift');
    expect(run.stderr).toContain('pushed scan');
    // In table mode the report's warnings are printed on stderr too.
    expect(run.stderr).toMatch(
      /^warning: \S+claude_desktop_config\.json: introspection of claude-desktop\/hang failed: timed out after 5s$/m,
    );
    expect(run.stdout + run.stderr).not.toContain(PLANTED);
    const res = await fetch(`${server.url}/v1/graph?type=tool&limit=5000`, {
      headers: { authorization: `Bearer ${keys.viewer}` },
    });
    expect(res.status).toBe(200);
    const graph = (await res.json()) as { nodes: Array<{ id: string; label: string }> };
    const jiraTools = graph.nodes
      .filter((n) => n.id.startsWith('tool:server:ci-introspect/claude-desktop/jira/'))
      .map((n) => n.label)
      .sort();
    expect(jiraTools).toEqual(['create_issue', 'run_command', 'search_issues']);
    expect(graph.nodes.some((n) => n.id.includes('/everything/') && n.label === 'get-sum')).toBe(true);
  }, 120_000);

  it('on a TTY the introspection progress bar is drawn on stderr', async () => {
    // `script` gives the CLI a pseudo-terminal for stderr; stdout goes to a file, so what the terminal shows is
    // stderr alone.
    const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;
    const args = [
      ...['scan', '--home', home(), '--os', 'linux', '--project', path.join(root, 'empty-project')],
      ...['--advisories', OSV_FIXTURES, '--introspect', '--timeout', '5', '--concurrency', '1'],
    ];
    const command = `${quote(process.execPath)} ${quote(CLI)} ${args.map(quote).join(' ')} > ${quote(path.join(root, 'tty-stdout.txt'))}`;
    const terminal = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn('script', ['-qec', command, '/dev/null'], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      child.on('close', (code) => resolve({ code, output }));
    });
    expect(terminal.code).toBe(0);
    expect(terminal.output).toMatch(/introspecting \[[^\]]*\] \d\/4/);
    expect(terminal.output).toContain('--introspect starts 3 stdio server(s)');
    expect(await fs.readFile(path.join(root, 'tty-stdout.txt'), 'utf8')).not.toContain('introspecting [');
  }, 120_000);
});
