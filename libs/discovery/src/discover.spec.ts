import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { FleetAgent, FleetServer } from '../../contracts/src/index.js';
import { discover } from './discover.js';

const homes = path.resolve('test/fixtures/homes');
const project = path.resolve('test/fixtures/projects/app');

function server(agents: FleetAgent[], agent: string, name: string): FleetServer {
  const found = agents.find((a) => a.name === agent)?.servers.find((s) => s.name === name);
  if (!found) throw new Error(`no ${agent}/${name}`);
  return found;
}

describe('discover on the Linux fixture home', () => {
  it('finds every supported client, one agent per (client, scope)', async () => {
    const { agents, warnings } = await discover({ os: 'linux', home: path.join(homes, 'linux') });
    expect(warnings).toEqual([]);
    expect(agents.map((a) => a.name)).toEqual([
      'claude-desktop',
      'claude-code',
      'claude-code:project:/home/dev/projects/api',
      'cursor',
      'windsurf',
      'vscode',
      'cline',
      'continue',
      'zed',
      'gemini-cli',
      'codex',
      'goose',
    ]);
    const names = Object.fromEntries(agents.map((a) => [a.name, a.servers.map((s) => s.name)]));
    expect(names).toMatchObject({
      'claude-desktop': ['filesystem', 'github'],
      'claude-code': ['sentry'],
      cursor: ['linear', 'billing'],
      windsurf: ['brave-search', 'jira'],
      vscode: ['memory', 'github-remote', 'time'],
      cline: ['weather', 'legacy'],
      continue: ['sqlite'],
      zed: ['notes'], // the extension-provided server has no command to inventory
      'gemini-cli': ['analytics'],
      codex: ['docs', 'remote'],
      goose: ['fetch', 'tracker'], // the builtin extension is not a server
    });
    expect(agents.find((a) => a.name === 'vscode')!.config_paths).toEqual([
      path.join(homes, 'linux/.config/Code/User/mcp.json'),
      path.join(homes, 'linux/.config/Code/User/settings.json'),
    ]);
  });

  it('maps transports: stdio by command, sse by type or /sse path, http/https by scheme', async () => {
    const { agents } = await discover({ os: 'linux', home: path.join(homes, 'linux') });
    expect(server(agents, 'claude-desktop', 'filesystem')).toMatchObject({
      transport: 'stdio',
      command: 'npx',
      args: ['-y', '@modelcontextprotocol/server-filesystem', '/home/dev/projects'],
      auth_mode: 'none',
      scope: 'global',
    });
    expect(server(agents, 'cursor', 'linear')).toMatchObject({
      transport: 'sse',
      url: 'https://mcp.linear.app/sse',
    });
    expect(server(agents, 'windsurf', 'jira')).toMatchObject({ transport: 'sse' });
    expect(server(agents, 'claude-code', 'sentry')).toMatchObject({ transport: 'https' });
    expect(server(agents, 'gemini-cli', 'analytics')).toMatchObject({ transport: 'https' });
    expect(server(agents, 'goose', 'tracker')).toMatchObject({ transport: 'https' });
    expect(server(agents, 'claude-desktop', 'filesystem').url).toBeUndefined();
    expect(server(agents, 'cursor', 'linear').command).toBeUndefined();
  });

  it('records credential names and auth modes, never values', async () => {
    const { agents } = await discover({ os: 'linux', home: path.join(homes, 'linux') });
    expect(server(agents, 'claude-desktop', 'github')).toMatchObject({
      auth_mode: 'env',
      credential_env_names: ['GITHUB_PERSONAL_ACCESS_TOKEN'],
    });
    expect(server(agents, 'cursor', 'billing')).toMatchObject({
      auth_mode: 'url',
      url: 'https://billing.example.com/mcp?team=core&api_key=[redacted]',
    });
    expect(server(agents, 'vscode', 'github-remote')).toMatchObject({
      auth_mode: 'headers',
      credential_header_names: ['Authorization'],
    });
    expect(server(agents, 'codex', 'remote')).toMatchObject({
      auth_mode: 'headers',
      credential_env_names: ['CODEX_REMOTE_TOKEN'],
      credential_header_names: ['Authorization'],
    });
    expect(server(agents, 'codex', 'docs').credential_env_names).toEqual(['DOCS_TOKEN']);
    expect(server(agents, 'goose', 'fetch').credential_env_names).toEqual(['FETCH_API_KEY']);
    expect(server(agents, 'zed', 'notes').credential_env_names).toEqual(['NOTES_API_TOKEN']);
    expect(JSON.stringify(agents)).not.toContain('fixture-placeholder');
    expect(JSON.stringify(agents)).not.toContain('GITHUB_TOOLSETS'); // a plain env var is not listed
  });

  it('declares tools from allow/auto-approve lists and Claude Code permissions', async () => {
    const { agents } = await discover({ os: 'linux', home: path.join(homes, 'linux') });
    expect(server(agents, 'cline', 'weather').declared_tools).toEqual(['get_alerts', 'get_forecast']);
    expect(server(agents, 'gemini-cli', 'analytics').declared_tools).toEqual([
      'list_properties',
      'run_report',
    ]);
    expect(server(agents, 'claude-code', 'sentry').declared_tools).toEqual(['search_issues']);
    expect(server(agents, 'claude-code:project:/home/dev/projects/api', 'postgres')).toMatchObject({
      declared_tools: ['query'],
      scope: 'project',
      project_path: '/home/dev/projects/api',
    });
  });

  it('keeps disabled servers in the inventory and marks them for introspection', async () => {
    const { servers } = await discover({ os: 'linux', home: path.join(homes, 'linux') });
    const disabled = servers.filter((s) => s.disabled).map((s) => `${s.agent}/${s.server.name}`);
    expect(disabled).toEqual(['cline/legacy', 'goose/tracker']);
  });

  it('leaves Claude Code per-project sections out when asked', async () => {
    const { agents } = await discover({
      os: 'linux',
      home: path.join(homes, 'linux'),
      claudeCodeProjects: false,
    });
    expect(agents.some((a) => a.name.startsWith('claude-code:project:'))).toBe(false);
  });
});

describe('discover per OS layout', () => {
  it('macOS reads Library/Application Support and ignores Linux paths', async () => {
    const { agents } = await discover({ os: 'darwin', home: path.join(homes, 'darwin') });
    expect(agents.map((a) => [a.name, a.servers.map((s) => s.name)])).toEqual([
      ['claude-desktop', ['filesystem']],
      ['cursor', ['jira']],
      ['vscode', ['playwright']],
      ['zed', ['git']],
    ]);
    expect(agents[0].config_paths).toEqual([
      path.join(homes, 'darwin/Library/Application Support/Claude/claude_desktop_config.json'),
    ]);
  });

  it('Windows reads AppData/Roaming and ignores Linux paths', async () => {
    const { agents } = await discover({ os: 'win32', home: path.join(homes, 'win32') });
    expect(agents.map((a) => [a.name, a.servers.map((s) => `${s.name}:${s.transport}`)])).toEqual([
      ['claude-desktop', ['filesystem:stdio']],
      ['vscode', ['azure:sse']],
      ['zed', ['win-notes:stdio']],
      ['goose', ['search:sse']],
    ]);
  });

  it('Windows honours an explicit %APPDATA%', async () => {
    const { agents } = await discover({
      os: 'win32',
      home: path.join(homes, 'linux'),
      appData: path.join(homes, 'win32/AppData/Roaming'),
    });
    expect(agents.find((a) => a.name === 'claude-desktop')!.servers[0].args).toContain(
      'C:\\Users\\dev\\Desktop',
    );
  });
});

describe('discover project files', () => {
  it('one agent per client file in the project; project files are marked untrusted', async () => {
    const { agents, servers } = await discover({
      os: 'linux',
      home: path.join(homes, 'darwin'),
      projects: [project],
    });
    const projectAgents = agents.filter((a) => a.name.includes(project));
    expect(projectAgents.map((a) => [a.name, a.client, a.servers.map((s) => s.name)])).toEqual([
      [`project:${project}`, 'project', ['project-db', 'docs-site']],
      [`cursor:project:${project}`, 'cursor', ['project-db']],
      [`vscode:project:${project}`, 'vscode', ['browser']],
    ]);
    expect(servers.filter((s) => s.fromProjectFile).length).toBe(4);
    expect(server(agents, `project:${project}`, 'project-db')).toMatchObject({
      scope: 'project',
      project_path: project,
      credential_env_names: ['PROJECT_DB_PASSWORD'],
      config_path: path.join(project, '.mcp.json'),
    });
  });

  it('names are unique per endpoint even when two files define the same server', async () => {
    const { agents } = await discover({
      os: 'linux',
      home: path.join(homes, 'linux'),
      projects: [project, project],
    });
    const names = agents.map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
    for (const agent of agents) {
      const serverNames = agent.servers.map((s) => s.name);
      expect(new Set(serverNames).size).toBe(serverNames.length);
    }
  });

  it('knownProjects reads the project files of the directories Claude Code lists', async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'abom-known-'));
    try {
      await fs.writeFile(
        path.join(home, '.claude.json'),
        JSON.stringify({
          projects: { [project]: { allowedTools: [] }, 'relative/dir': {}, '/nowhere/at/all': {} },
        }),
      );
      const without = await discover({ os: 'linux', home });
      expect(without.agents.map((a) => a.name)).toEqual(['claude-code']);
      const known = await discover({ os: 'linux', home, knownProjects: true });
      expect(known.agents.map((a) => a.name)).toEqual([
        'claude-code',
        `project:${project}`,
        `cursor:project:${project}`,
        `vscode:project:${project}`,
      ]);
      expect(known.warnings).toEqual([]);
    } finally {
      await fs.rm(home, { recursive: true, force: true });
    }
  });
});
