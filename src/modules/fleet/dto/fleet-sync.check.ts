import { isISO8601, length, maxLength } from 'class-validator';
import {
  AUTH_MODES,
  CLIENTS,
  FLEET_LIMITS,
  INTROSPECTION_STATUSES,
  SOURCE_ID_PATTERN,
  TRANSPORTS,
} from '../../../../libs/contracts/src/index.js';

/**
 * A hand-written pass over a sync body that says "the DTOs of fleet-sync.dto.ts accept this as it is", in one walk
 * and without building DTO instances or error trees (class-validator and class-transformer cost ~16 ms of CPU for a
 * sync of 50 agents × 4 servers; this, well under 1 ms).
 *
 * It only ever accepts: `true` must imply that the global ValidationPipe would accept the body unchanged (every
 * rule of the DTOs, the whitelist of fields included), and then the plain body goes to the handler. `false` means
 * "not sure", never "invalid": the body then goes through class-validator as before, which accepts it (an optional
 * field sent as `null`) or answers the 400 it always did, word for word. So the error format cannot drift, and a
 * rule missed here shows as a slow acceptance or a refusal by the DTOs, never as a weaker check. The spec beside
 * this file compares the two on many bodies; keep it in step with the DTOs.
 */
export function isPlainValidSync(body: unknown): boolean {
  if (!isRecord(body) || !onlyKeys(body, SYNC_KEYS)) return false;
  if (typeof body.source_id !== 'string' || !SOURCE_ID_PATTERN.test(body.source_id)) return false;
  if (body.endpoint !== undefined && !isEndpoint(body.endpoint)) return false;
  if (body.collected_at !== undefined && !isISO8601(body.collected_at)) return false;
  if (!listOf(body.agents, FLEET_LIMITS.agentsPerSync, isAgent)) return false;
  return body.warnings === undefined || listOf(body.warnings, FLEET_LIMITS.warningsPerSync, isWarning);
}

type Fields = Record<string, unknown>;

const NAME = FLEET_LIMITS.nameLength;
const TEXT = FLEET_LIMITS.textLength;
const SYNC_KEYS = new Set(['source_id', 'endpoint', 'collected_at', 'agents', 'warnings']);
const ENDPOINT_KEYS = new Set([
  'hostname',
  'os',
  'os_release',
  'agent_bom_version',
  'owner',
  'environment',
  'tags',
]);
const AGENT_KEYS = new Set(['name', 'client', 'config_paths', 'servers']);
const SERVER_KEYS = new Set([
  'name',
  'transport',
  'command',
  'args',
  'url',
  'declared_tools',
  'auth_mode',
  'credential_env_names',
  'credential_header_names',
  'config_path',
  'scope',
  'project_path',
  'introspection',
]);
const INTROSPECTION_KEYS = new Set([
  'status',
  'tools',
  'error',
  'protocol_version',
  'server_name',
  'server_version',
  'at',
]);
const WARNING_KEYS = new Set(['path', 'client', 'message']);
const OSES = new Set(['darwin', 'linux', 'win32', 'other']);
const SCOPES = new Set(['global', 'project']);
const CLIENT_SET = new Set<unknown>(CLIENTS);
const TRANSPORT_SET = new Set<unknown>(TRANSPORTS);
const AUTH_MODE_SET = new Set<unknown>(AUTH_MODES);
const STATUS_SET = new Set<unknown>(INTROSPECTION_STATUSES);
const HTTP_URL = /^(https?):\/\//i;

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The whitelist: every own key is a declared field (forbidNonWhitelisted). */
function onlyKeys(value: Fields, allowed: Set<string>): boolean {
  for (const key of Object.keys(value)) if (!allowed.has(key)) return false;
  return true;
}

/**
 * `@IsString() @MaxLength(max)`. class-validator counts a surrogate pair (and a character with its presentation
 * selector) as one, so a string no longer than `max` UTF-16 units always passes and a longer one is asked to it.
 */
function isText(value: unknown, max: number): boolean {
  return typeof value === 'string' && (value.length <= max || maxLength(value, max));
}

/** `@IsString() @Length(1, max)`: by the count above, any non-empty string counts at least 1. */
function isName(value: unknown, max: number): boolean {
  return typeof value === 'string' && value.length > 0 && (value.length <= max || length(value, 1, max));
}

const optionalText = (value: unknown, max: number) => value === undefined || isText(value, max);
const optionalIn = (value: unknown, set: Set<unknown>) => value === undefined || set.has(value);

/** `@IsArray() @ArrayMaxSize(max)` with a check of each element (`{ each: true }` rules or a nested DTO). */
function listOf(value: unknown, max: number, each: (item: unknown) => boolean): boolean {
  if (!Array.isArray(value) || value.length > max) return false;
  for (const item of value) if (!each(item)) return false;
  return true;
}

/** `NameList(max)` of fleet-sync.dto.ts: optional; an array of at most `max` names of 1..200 characters. */
function isNameList(value: unknown, max: number): boolean {
  return value === undefined || listOf(value, max, (item) => isName(item, NAME));
}

function isEndpoint(value: unknown): boolean {
  return (
    isRecord(value) &&
    onlyKeys(value, ENDPOINT_KEYS) &&
    optionalText(value.hostname, NAME) &&
    optionalIn(value.os, OSES) &&
    optionalText(value.os_release, NAME) &&
    optionalText(value.agent_bom_version, NAME) &&
    optionalText(value.owner, NAME) &&
    optionalText(value.environment, NAME) &&
    isNameList(value.tags, FLEET_LIMITS.tagsPerEndpoint)
  );
}

function isAgent(value: unknown): boolean {
  return (
    isRecord(value) &&
    onlyKeys(value, AGENT_KEYS) &&
    isName(value.name, NAME) &&
    CLIENT_SET.has(value.client) &&
    (value.config_paths === undefined || listOf(value.config_paths, 64, (path) => isName(path, TEXT))) &&
    listOf(value.servers, FLEET_LIMITS.serversPerAgent, isServer)
  );
}

function isServer(value: unknown): boolean {
  return (
    isRecord(value) &&
    onlyKeys(value, SERVER_KEYS) &&
    isName(value.name, NAME) &&
    TRANSPORT_SET.has(value.transport) &&
    optionalText(value.command, TEXT) &&
    (value.args === undefined ||
      listOf(value.args, FLEET_LIMITS.argsPerServer, (arg) => isText(arg, TEXT))) &&
    (value.url === undefined || (isText(value.url, TEXT) && HTTP_URL.test(value.url as string))) &&
    isNameList(value.declared_tools, FLEET_LIMITS.toolsPerServer) &&
    AUTH_MODE_SET.has(value.auth_mode) &&
    isNameList(value.credential_env_names, FLEET_LIMITS.credentialNamesPerServer) &&
    isNameList(value.credential_header_names, FLEET_LIMITS.credentialNamesPerServer) &&
    isName(value.config_path, TEXT) &&
    optionalIn(value.scope, SCOPES) &&
    optionalText(value.project_path, TEXT) &&
    (value.introspection === undefined || isIntrospection(value.introspection))
  );
}

function isIntrospection(value: unknown): boolean {
  return (
    isRecord(value) &&
    onlyKeys(value, INTROSPECTION_KEYS) &&
    STATUS_SET.has(value.status) &&
    isNameList(value.tools, FLEET_LIMITS.toolsPerServer) &&
    optionalText(value.error, 1000) &&
    optionalText(value.protocol_version, NAME) &&
    optionalText(value.server_name, NAME) &&
    optionalText(value.server_version, NAME) &&
    (value.at === undefined || isISO8601(value.at))
  );
}

function isWarning(value: unknown): boolean {
  return (
    isRecord(value) &&
    onlyKeys(value, WARNING_KEYS) &&
    isName(value.path, TEXT) &&
    optionalIn(value.client, CLIENT_SET) &&
    isName(value.message, 1000)
  );
}
