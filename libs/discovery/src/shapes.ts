/**
 * The config shapes MCP clients write, reduced to one loose entry type. Nothing here trusts a type: every field
 * stays `unknown` until `normalize.ts` checks it, and a wrong shape becomes a problem string (never a throw).
 */

/** One server as a client config declares it, before any checking. */
export interface ServerEntry {
  name: string;
  command?: unknown;
  args?: unknown;
  env?: unknown;
  cwd?: unknown;
  url?: unknown;
  type?: unknown;
  headers?: unknown;
  /** Tools the config pre-approves or restricts the server to. */
  tools: string[];
  disabled: boolean;
  /** The client does OAuth for this server. */
  oauth: boolean;
  /** Env var names the client fills from a secret store or passes as a bearer token: credentials by definition. */
  credentialEnvNames: string[];
  /** Header names the client fills from the environment. */
  credentialHeaderNames: string[];
}

export interface ProjectSection {
  path: string;
  entries: ServerEntry[];
  /** Claude Code `allowedTools` of the project (`mcp__<server>__<tool>`). */
  allowedTools: string[];
}

export interface ShapeResult {
  entries: ServerEntry[];
  /** Claude Code's per-project sections (`projects.<path>.mcpServers`). */
  projects: ProjectSection[];
  /** Claude Code `permissions.allow` of the user settings (`mcp__<server>__<tool>`). */
  allowedTools: string[];
  problems: string[];
}

export type Shape =
  | 'mcpServers'
  | 'claude-code'
  | 'claude-settings'
  | 'vscode-mcp'
  | 'vscode-settings'
  | 'zed'
  | 'codex'
  | 'goose'
  | 'continue';

/** Most projects Claude Code's file may contribute, so a huge `.claude.json` stays bounded. */
export const MAX_PROJECT_SECTIONS = 500;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function emptyResult(): ShapeResult {
  return { entries: [], projects: [], allowedTools: [], problems: [] };
}

/** Extracts the servers of a parsed config document according to its client's shape. */
export function extractServers(doc: unknown, shape: Shape): ShapeResult {
  const result = emptyResult();
  if (doc === undefined || doc === null) return result;
  if (!isRecord(doc)) {
    result.problems.push('the top level is not an object; skipped');
    return result;
  }
  switch (shape) {
    case 'mcpServers':
      serverMap(doc.mcpServers, 'mcpServers', result);
      break;
    case 'claude-code':
      serverMap(doc.mcpServers, 'mcpServers', result);
      claudeProjects(doc.projects, result);
      break;
    case 'claude-settings':
      serverMap(doc.mcpServers, 'mcpServers', result);
      if (isRecord(doc.permissions)) result.allowedTools.push(...stringList(doc.permissions.allow));
      break;
    case 'vscode-mcp':
      serverMap(doc.servers ?? doc.mcpServers, 'servers', result);
      break;
    case 'vscode-settings': {
      const nested = isRecord(doc.mcp) ? doc.mcp.servers : undefined;
      serverMap(nested ?? doc['mcp.servers'], 'mcp.servers', result);
      break;
    }
    case 'zed':
      zedServers(doc.context_servers, result);
      break;
    case 'codex':
      serverMap(doc.mcp_servers, 'mcp_servers', result);
      break;
    case 'goose':
      gooseExtensions(doc.extensions, result);
      break;
    case 'continue':
      serverMap(doc.mcpServers, 'mcpServers', result);
      if (isRecord(doc.experimental)) {
        serverMap(
          doc.experimental.modelContextProtocolServers,
          'experimental.modelContextProtocolServers',
          result,
        );
      }
      break;
  }
  return result;
}

/** `{name: {...}}` maps, or `[{name, ...}]` lists (Continue); `undefined` means the client has none. */
function serverMap(value: unknown, where: string, result: ShapeResult, into = result.entries): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      if (!isRecord(item)) {
        result.problems.push(`${where}[${index}] is not an object; skipped`);
        return;
      }
      const name = typeof item.name === 'string' && item.name.trim() ? item.name : `mcp-server-${index + 1}`;
      into.push(genericEntry(name, item));
    });
    return;
  }
  if (!isRecord(value)) {
    result.problems.push(`${where} is not an object; skipped`);
    return;
  }
  for (const [name, item] of Object.entries(value)) {
    if (!isRecord(item)) {
      result.problems.push(`${where}: server "${printableName(name)}" is not an object; skipped`);
      continue;
    }
    into.push(genericEntry(name, item));
  }
}

/**
 * The fields the common shapes share: Claude (`command/args/env/url/type/headers`), Cursor, Windsurf
 * (`serverUrl`), Cline (`autoApprove`, `alwaysAllow`, `disabled`), Gemini CLI (`httpUrl`, `includeTools`,
 * `oauth`), Codex (`bearer_token_env_var`, `http_headers`, `env_http_headers`, `enabled_tools`, `enabled`),
 * VS Code (`servers` with `type`), Continue (`transport: {type, ...}`).
 */
function genericEntry(name: string, raw: Record<string, unknown>): ServerEntry {
  const item = isRecord(raw.transport) ? { ...raw, ...raw.transport } : raw;
  const credentialEnvNames: string[] = [];
  const credentialHeaderNames: string[] = [];
  if (typeof item.bearer_token_env_var === 'string') {
    credentialEnvNames.push(item.bearer_token_env_var);
    credentialHeaderNames.push('Authorization');
  }
  if (isRecord(item.env_http_headers)) {
    for (const [header, envName] of Object.entries(item.env_http_headers)) {
      credentialHeaderNames.push(header);
      if (typeof envName === 'string') credentialEnvNames.push(envName);
    }
  }
  const oauthValue = item.oauth;
  const oauth =
    oauthValue === true ||
    (isRecord(oauthValue) && oauthValue.enabled !== false) ||
    typeof item.authProviderType === 'string' ||
    (isRecord(item.auth) && item.auth.type === 'oauth');
  return {
    name,
    command: item.command,
    args: item.args,
    env: item.env,
    cwd: item.cwd,
    url: item.url ?? item.serverUrl ?? item.httpUrl ?? item.uri,
    type: item.httpUrl !== undefined && item.url === undefined ? 'http' : (item.type ?? raw.transport),
    headers: item.headers ?? item.http_headers,
    tools: [
      ...stringList(item.autoApprove),
      ...stringList(item.auto_approve),
      ...stringList(item.alwaysAllow),
      ...stringList(item.includeTools),
      ...stringList(item.allowedTools),
      ...stringList(item.enabled_tools),
      ...stringList(item.tools),
    ],
    disabled: item.disabled === true || item.enabled === false,
    oauth,
    credentialEnvNames,
    credentialHeaderNames,
  };
}

/** Claude Code `~/.claude.json`: `projects.<path>.mcpServers` and `projects.<path>.allowedTools`. */
function claudeProjects(value: unknown, result: ShapeResult): void {
  if (value === undefined || value === null) return;
  if (!isRecord(value)) {
    result.problems.push('projects is not an object; skipped');
    return;
  }
  const all = Object.entries(value);
  if (all.length > MAX_PROJECT_SECTIONS) {
    result.problems.push(
      `projects lists ${all.length} projects; only the first ${MAX_PROJECT_SECTIONS} are read`,
    );
  }
  for (const [projectPath, project] of all.slice(0, MAX_PROJECT_SECTIONS)) {
    if (!isRecord(project)) continue;
    const section: ProjectSection = {
      path: projectPath,
      entries: [],
      allowedTools: stringList(project.allowedTools),
    };
    serverMap(
      project.mcpServers,
      `projects["${printableName(projectPath)}"].mcpServers`,
      result,
      section.entries,
    );
    result.projects.push(section);
  }
}

/** Zed `context_servers`: `{command: {path, args, env}}`, `{command: "x", args, env}` or `{url, headers}`. */
function zedServers(value: unknown, result: ShapeResult): void {
  if (value === undefined || value === null) return;
  if (!isRecord(value)) {
    result.problems.push('context_servers is not an object; skipped');
    return;
  }
  for (const [name, item] of Object.entries(value)) {
    if (!isRecord(item)) {
      result.problems.push(`context_servers: server "${printableName(name)}" is not an object; skipped`);
      continue;
    }
    // Servers provided by a Zed extension declare only `settings`: the extension knows how to start them.
    if (item.command === undefined && item.url === undefined) continue;
    const entry = genericEntry(name, item);
    if (isRecord(item.command)) {
      entry.command = item.command.path;
      entry.args = item.command.args ?? item.args;
      entry.env = item.command.env ?? item.env;
    }
    result.entries.push(entry);
  }
}

/** Goose `extensions`: `{type: stdio|sse|streamable_http|builtin|…, cmd, args, envs, env_keys, uri, headers}`. */
function gooseExtensions(value: unknown, result: ShapeResult): void {
  if (value === undefined || value === null) return;
  if (!isRecord(value)) {
    result.problems.push('extensions is not an object; skipped');
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    if (!isRecord(item)) {
      result.problems.push(`extensions: "${printableName(key)}" is not an object; skipped`);
      continue;
    }
    const type = typeof item.type === 'string' ? item.type : undefined;
    // Built-in and frontend extensions run inside Goose: no server to inventory.
    if (type !== 'stdio' && type !== 'sse' && type !== 'streamable_http') continue;
    result.entries.push({
      name: typeof item.name === 'string' && item.name.trim() ? item.name : key,
      command: item.cmd,
      args: item.args,
      env: item.envs,
      cwd: undefined,
      url: item.uri,
      type: type === 'streamable_http' ? 'http' : type,
      headers: item.headers,
      tools: stringList(item.available_tools),
      disabled: item.enabled === false,
      oauth: false,
      // Goose keeps these in the OS keyring and passes them to the server: secrets by definition.
      credentialEnvNames: stringList(item.env_keys),
      credentialHeaderNames: [],
    });
  }
}

/** A name safe to quote in a warning: bounded, no control characters. */
export function printableName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = name.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 77)}...` : clean;
}
