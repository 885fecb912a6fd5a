import path from 'node:path';
import type { Client } from '../../contracts/src/index.js';
import type { ConfigFormat } from './read-config.js';
import type { Shape } from './shapes.js';

/** The OS whose path layout to read. Chosen by parameter, so every layout can be exercised on any host. */
export type DiscoveryOs = 'darwin' | 'linux' | 'win32';
export const DISCOVERY_OSES: readonly DiscoveryOs[] = ['darwin', 'linux', 'win32'];

export interface ConfigLocation {
  client: Client;
  path: string;
  format: ConfigFormat;
  shape: Shape;
}

export interface HomeLayout {
  os: DiscoveryOs;
  home: string;
  /** Windows `%APPDATA%`; default `<home>/AppData/Roaming`. */
  appData?: string;
  /** Linux `$XDG_CONFIG_HOME`; default `<home>/.config`. */
  xdgConfigHome?: string;
}

/** The user-level config files of every supported client, in precedence order per client. */
export function globalLocations(layout: HomeLayout): ConfigLocation[] {
  const { os, home } = layout;
  const at = (...parts: string[]) => path.join(home, ...parts);
  const appData = layout.appData ?? at('AppData', 'Roaming');
  const xdg = layout.xdgConfigHome ?? at('.config');
  const appSupport = at('Library', 'Application Support');
  // Where desktop apps keep per-user data, and where VS Code keeps its `User` directory.
  const appDir = { darwin: appSupport, linux: xdg, win32: appData }[os];
  const codeUser = path.join(appDir, 'Code', 'User');

  const locations: ConfigLocation[] = [
    {
      client: 'claude-desktop',
      path: path.join(appDir, 'Claude', 'claude_desktop_config.json'),
      format: 'json',
      shape: 'mcpServers',
    },
    { client: 'claude-code', path: at('.claude.json'), format: 'json', shape: 'claude-code' },
    { client: 'claude-code', path: at('.claude', 'settings.json'), format: 'json', shape: 'claude-settings' },
    { client: 'cursor', path: at('.cursor', 'mcp.json'), format: 'json', shape: 'mcpServers' },
    {
      client: 'windsurf',
      path: at('.codeium', 'windsurf', 'mcp_config.json'),
      format: 'json',
      shape: 'mcpServers',
    },
    { client: 'windsurf', path: at('.windsurf', 'mcp.json'), format: 'json', shape: 'mcpServers' },
    { client: 'vscode', path: path.join(codeUser, 'mcp.json'), format: 'json', shape: 'vscode-mcp' },
    {
      client: 'vscode',
      path: path.join(codeUser, 'settings.json'),
      format: 'json',
      shape: 'vscode-settings',
    },
    {
      client: 'cline',
      path: path.join(
        codeUser,
        'globalStorage',
        'saoudrizwan.claude-dev',
        'settings',
        'cline_mcp_settings.json',
      ),
      format: 'json',
      shape: 'mcpServers',
    },
    { client: 'continue', path: at('.continue', 'config.yaml'), format: 'yaml', shape: 'continue' },
    { client: 'continue', path: at('.continue', 'config.json'), format: 'json', shape: 'continue' },
    {
      client: 'zed',
      // Zed keeps ~/.config/zed on macOS too.
      path:
        os === 'win32'
          ? path.join(appData, 'Zed', 'settings.json')
          : path.join(os === 'linux' ? xdg : at('.config'), 'zed', 'settings.json'),
      format: 'json',
      shape: 'zed',
    },
    { client: 'gemini-cli', path: at('.gemini', 'settings.json'), format: 'json', shape: 'mcpServers' },
    { client: 'codex', path: at('.codex', 'config.toml'), format: 'toml', shape: 'codex' },
    {
      client: 'goose',
      path:
        os === 'win32'
          ? path.join(appData, 'Block', 'goose', 'config', 'config.yaml')
          : path.join(os === 'linux' ? xdg : at('.config'), 'goose', 'config.yaml'),
      format: 'yaml',
      shape: 'goose',
    },
  ];
  return locations;
}

/**
 * Project-level files in one project directory. `.mcp.json` is the shared project file (client `project`);
 * `.cursor/mcp.json` and `.vscode/mcp.json` belong to their clients.
 */
export function projectLocations(projectDir: string): ConfigLocation[] {
  return [
    { client: 'project', path: path.join(projectDir, '.mcp.json'), format: 'json', shape: 'mcpServers' },
    {
      client: 'cursor',
      path: path.join(projectDir, '.cursor', 'mcp.json'),
      format: 'json',
      shape: 'mcpServers',
    },
    {
      client: 'vscode',
      path: path.join(projectDir, '.vscode', 'mcp.json'),
      format: 'json',
      shape: 'vscode-mcp',
    },
  ];
}
