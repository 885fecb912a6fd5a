import path from 'node:path';
import { FLEET_LIMITS, type Client, type FleetAgent, type FleetServer } from '../../contracts/src/index.js';
import { globalLocations, projectLocations, type ConfigLocation, type HomeLayout } from './locations.js';
import { boundedName, normalizeServer, type LaunchSpec } from './normalize.js';
import { DEFAULT_MAX_FILE_BYTES, readConfigFile } from './read-config.js';
import { extractServers, type ServerEntry } from './shapes.js';

export interface DiscoverOptions extends HomeLayout {
  /** Project directories whose `.mcp.json`, `.cursor/mcp.json` and `.vscode/mcp.json` are read. */
  projects?: readonly string[];
  /** Read Claude Code's per-project sections (`projects.<path>.mcpServers` of `~/.claude.json`). Default true. */
  claudeCodeProjects?: boolean;
  /** Also read the project files of every directory `~/.claude.json` lists. Default false. */
  knownProjects?: boolean;
  /** Skip config files larger than this (default 5 MiB). */
  maxFileBytes?: number;
}

/** Something that made a config file or server unusable. Never contains credential values. */
export interface DiscoveryWarning {
  path: string;
  client: Client;
  message: string;
}

/** A server together with what introspection needs to reach it. */
export interface DiscoveredServer {
  /** Name of the agent the server belongs to. */
  agent: string;
  /** The same object as in `Discovery.agents`, so introspection results land in the payload. */
  server: FleetServer;
  launch: LaunchSpec;
  /** The config disables this server. */
  disabled: boolean;
  /**
   * Read from a file inside a project directory: repository content anyone could have written, as opposed to
   * the user's own config. Introspection does not start such stdio servers unless told to.
   */
  fromProjectFile: boolean;
}

export interface Discovery {
  agents: FleetAgent[];
  servers: DiscoveredServer[];
  warnings: DiscoveryWarning[];
  /** Config files found and read, with or without problems. */
  files: string[];
}

/** Most project directories read through `knownProjects`. */
export const MAX_KNOWN_PROJECTS = 200;

interface AgentState {
  agent: FleetAgent;
  /** Server name → the file that defined it first. */
  seen: Map<string, string>;
  allowedTools: string[];
  truncated: boolean;
}

/**
 * Finds the MCP client configs of one home directory (and optional project directories) and maps them to fleet
 * agents: one agent per (client, scope), named `<client>` for user-level config, `project:<dir>` for a
 * project's `.mcp.json`, `<client>:project:<dir>` for a client's project file or Claude Code's per-project
 * section. Never throws on file content: every problem is a warning.
 */
export async function discover(input: DiscoverOptions): Promise<Discovery> {
  const options: DiscoverOptions = {
    ...input,
    home: path.resolve(input.home),
    appData: input.appData && path.resolve(input.appData),
    xdgConfigHome: input.xdgConfigHome && path.resolve(input.xdgConfigHome),
  };
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const agents = new Map<string, AgentState>();
  const servers: DiscoveredServer[] = [];
  const warnings: DiscoveryWarning[] = [];
  const files: string[] = [];
  const knownProjectDirs: string[] = [];

  const agentFor = (name: string, client: Client, configPath: string): AgentState => {
    let state = agents.get(name);
    if (!state) {
      state = {
        agent: { name, client, config_paths: [], servers: [] },
        seen: new Map(),
        allowedTools: [],
        truncated: false,
      };
      agents.set(name, state);
    }
    if (!state.agent.config_paths!.includes(configPath)) state.agent.config_paths!.push(configPath);
    return state;
  };

  const addEntries = (
    state: AgentState,
    entries: ServerEntry[],
    location: ConfigLocation,
    scope: 'global' | 'project',
    projectPath: string | undefined,
    fromProjectFile: boolean,
  ) => {
    const warn = (message: string) =>
      warnings.push({ path: location.path, client: location.client, message });
    for (const entry of entries) {
      const normalized = normalizeServer(entry, { configPath: location.path, scope, projectPath });
      if (!normalized.ok) {
        warn(normalized.problem);
        continue;
      }
      normalized.problems.forEach(warn);
      const { server } = normalized;
      const first = state.seen.get(server.name);
      if (first !== undefined) {
        warn(
          `server "${server.name}" is also defined in ${first}, which takes precedence; this one is ignored`,
        );
        continue;
      }
      if (state.agent.servers.length >= FLEET_LIMITS.serversPerAgent) {
        if (!state.truncated) warn(`more than ${FLEET_LIMITS.serversPerAgent} servers; the rest are ignored`);
        state.truncated = true;
        continue;
      }
      state.seen.set(server.name, location.path);
      state.agent.servers.push(server);
      servers.push({
        agent: state.agent.name,
        server,
        launch: normalized.launch,
        disabled: normalized.disabled,
        fromProjectFile,
      });
    }
  };

  const readLocation = async (location: ConfigLocation) => {
    const outcome = await readConfigFile(location.path, location.format, maxBytes);
    if (outcome.status === 'missing') return undefined;
    files.push(location.path);
    if (outcome.status === 'error') {
      warnings.push({ path: location.path, client: location.client, message: outcome.message });
      return { entries: [], projects: [], allowedTools: [], problems: [] };
    }
    const shape = extractServers(outcome.data, location.shape);
    for (const message of shape.problems)
      warnings.push({ path: location.path, client: location.client, message });
    return shape;
  };

  for (const location of globalLocations(options)) {
    const shape = await readLocation(location);
    if (!shape) continue;
    const state = agentFor(location.client, location.client, location.path);
    addEntries(state, shape.entries, location, 'global', undefined, false);
    state.allowedTools.push(...shape.allowedTools);
    for (const project of shape.projects) {
      if (path.isAbsolute(project.path)) knownProjectDirs.push(project.path);
      if (options.claudeCodeProjects === false || project.entries.length === 0) continue;
      const name = boundedName(`claude-code:project:${project.path}`);
      const projectState = agentFor(name, 'claude-code', location.path);
      addEntries(projectState, project.entries, location, 'project', project.path, false);
      projectState.allowedTools.push(...project.allowedTools);
    }
  }

  const projectDirs = [...new Set((options.projects ?? []).map((dir) => path.resolve(dir)))];
  if (options.knownProjects) {
    for (const dir of knownProjectDirs.slice(0, MAX_KNOWN_PROJECTS)) {
      if (!projectDirs.includes(dir)) projectDirs.push(dir);
    }
  }
  for (const dir of projectDirs) {
    for (const location of projectLocations(dir)) {
      const shape = await readLocation(location);
      if (!shape) continue;
      const name = boundedName(
        location.client === 'project' ? `project:${dir}` : `${location.client}:project:${dir}`,
      );
      addEntries(
        agentFor(name, location.client, location.path),
        shape.entries,
        location,
        'project',
        dir,
        true,
      );
    }
  }

  const all = [...agents.values()];
  for (const state of all) applyAllowedTools(state);
  if (all.length > FLEET_LIMITS.agentsPerSync) {
    const kept = new Set(all.slice(0, FLEET_LIMITS.agentsPerSync).map((s) => s.agent.name));
    warnings.push({
      path: options.home,
      client: 'project',
      message: `${all.length} agents found; only the first ${FLEET_LIMITS.agentsPerSync} are kept`,
    });
    return {
      agents: all.filter((s) => kept.has(s.agent.name)).map((s) => s.agent),
      servers: servers.filter((s) => kept.has(s.agent)),
      warnings,
      files,
    };
  }
  return { agents: all.map((s) => s.agent), servers, warnings, files };
}

/**
 * Claude Code pre-approves tools as `mcp__<server>__<tool>`, where `<server>` is the server's name with
 * characters outside `A-Za-z0-9_-` replaced by `_`. Those tools become the server's declared tools.
 */
function applyAllowedTools(state: AgentState): void {
  if (state.allowedTools.length === 0) return;
  const byKey = new Map(state.agent.servers.map((s) => [s.name.replace(/[^A-Za-z0-9_-]/g, '_'), s]));
  for (const rule of state.allowedTools) {
    const match = /^mcp__(.+?)__(.+)$/.exec(rule);
    if (!match) continue;
    const server = byKey.get(match[1]);
    if (!server || match[2].includes('*')) continue;
    const tools = new Set(server.declared_tools ?? []);
    tools.add(match[2].slice(0, FLEET_LIMITS.nameLength));
    server.declared_tools = [...tools].sort().slice(0, FLEET_LIMITS.toolsPerServer);
  }
}
