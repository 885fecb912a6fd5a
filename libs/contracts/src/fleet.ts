/**
 * The fleet sync payload: what `agent-bom agents` pushes to `POST /v1/fleet/sync` and the control plane stores.
 * Credential *values* never appear here: only the names of credential-bearing environment variables and headers.
 */

export const TRANSPORTS = ['stdio', 'http', 'https', 'sse'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** Transports a gateway can front. stdio is never discovered as an upstream. */
export const REMOTE_TRANSPORTS: readonly Transport[] = ['http', 'https', 'sse'];

/** MCP clients whose configs `agent-bom agents` reads; `project` is a project-level file (`.mcp.json`, …). */
export const CLIENTS = [
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
  'project',
] as const;
export type Client = (typeof CLIENTS)[number];

/**
 * How a server authenticates, as far as its config shows:
 * `none` (nothing credential-like), `env` (credential-named env vars), `headers` (credential-named headers),
 * `url` (credentials embedded in the URL; the agent strips them), `args` (a secret on the command line; the
 * agent redacts it), `oauth` (the client does OAuth), `unknown`.
 */
export const AUTH_MODES = ['none', 'env', 'headers', 'url', 'args', 'oauth', 'unknown'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export const INTROSPECTION_STATUSES = ['ok', 'failed', 'skipped'] as const;

/** Result of `--introspect`: only list methods are called, never `tools/call`. */
export interface FleetIntrospection {
  status: (typeof INTROSPECTION_STATUSES)[number];
  /** Tool names the live server listed. */
  tools?: string[];
  /** Why it failed or was skipped; never contains credential values. */
  error?: string;
  protocol_version?: string;
  server_name?: string;
  server_version?: string;
  /** ISO 8601 time of the attempt. */
  at?: string;
}

export interface FleetServer {
  /** The server's name in the client config. */
  name: string;
  transport: Transport;
  /** stdio only: the executable. */
  command?: string;
  /** stdio only: arguments, with secret-looking values replaced by `[redacted]`. */
  args?: string[];
  /** Remote only: the URL without userinfo, and with secret-looking query values redacted. */
  url?: string;
  /** Tools the config declares (e.g. allow/auto-approve lists), before any introspection. */
  declared_tools?: string[];
  auth_mode: AuthMode;
  /** Names (never values) of environment variables that carry credentials. */
  credential_env_names?: string[];
  /** Names (never values) of HTTP headers that carry credentials. */
  credential_header_names?: string[];
  /** The file this server was read from. */
  config_path: string;
  /** `global` for user-level config, `project` for a project file or a per-project section. */
  scope?: 'global' | 'project';
  /** For project scope: the project directory. */
  project_path?: string;
  introspection?: FleetIntrospection;
}

/** One MCP client installation on the endpoint (an "agent" in the fleet). */
export interface FleetAgent {
  /** Unique per (endpoint, client): e.g. `claude-desktop`, or `project:/home/me/repo`. */
  name: string;
  client: Client;
  /** Config files this agent's servers came from. */
  config_paths?: string[];
  servers: FleetServer[];
}

export interface FleetEndpoint {
  hostname?: string;
  os?: 'darwin' | 'linux' | 'win32' | 'other';
  os_release?: string;
  agent_bom_version?: string;
  owner?: string;
  environment?: string;
  tags?: string[];
}

export interface FleetSyncPayload {
  /** Stable identity of the endpoint (machine), 1-200 characters of `A-Za-z0-9._:-`. */
  source_id: string;
  endpoint?: FleetEndpoint;
  /** ISO 8601 time the inventory was collected. */
  collected_at?: string;
  agents: FleetAgent[];
  /**
   * What the endpoint could not read (a malformed config, an unreadable file): the inventory may be incomplete.
   * Paths and short reasons only, never file contents.
   */
  warnings?: FleetWarning[];
}

export interface FleetWarning {
  path: string;
  client?: Client;
  message: string;
}

export interface FleetSyncResult {
  source_id: string;
  /** Agents in the payload. */
  synced: number;
  new: number;
  updated: number;
  /** Present and true when this is a replay of an earlier sync with the same Idempotency-Key. */
  idempotent_replay?: boolean;
  /**
   * Present only on the push that enrolled the endpoint: its own credential, bound to `source_id`, shown once.
   * The client stores it (0600) and pushes with it from then on (docs/fleet.md, "Endpoint enrollment").
   */
  endpoint_credential?: string;
}

/** An endpoint's enrollment, as admins see it (`GET /v1/fleet/endpoints`). */
export interface FleetEnrollmentView {
  source_id: string;
  state: 'enrolled' | 'revoked' | 'reenroll';
  key_id: string | null;
  enrolled_at: string;
  enrolled_by: string;
  changed_at: string;
  changed_by: string;
  hostname: string | null;
  last_synced_at: string | null;
}

/** Bounds the control plane enforces on a sync; the CLI stays within them. */
export const FLEET_LIMITS = {
  agentsPerSync: 500,
  serversPerAgent: 200,
  toolsPerServer: 1000,
  argsPerServer: 128,
  credentialNamesPerServer: 128,
  tagsPerEndpoint: 32,
  warningsPerSync: 100,
  nameLength: 200,
  textLength: 4096,
} as const;

/** Source ids and idempotency keys: plain, log-safe identifiers. */
export const SOURCE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,200}$/;
/** What {@link SOURCE_ID_PATTERN} asks for, as the end of a 400's message (`source_id must be …`). */
export const SOURCE_ID_RULE = 'must be 1-200 characters of A-Z a-z 0-9 . _ : -';
