import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { AgentsOptions } from './commands/agents.js';
import type { ScanOptions } from './commands/scan.js';
import { VERSION } from './version.js';
import type { ProxyCliOptions } from '../apps/proxy/src/config.js';

/**
 * `agent-bom`: one CLI for every surface. Each command's implementation is imported only when it runs, so
 * `agent-bom proxy` never loads the control plane, Nest's HTTP stack or the database driver.
 *
 * Exit codes: 0 success; 1 the operation failed (database unreachable, tenant unknown, push refused, …);
 * 2 usage or configuration error; 3 `agents --strict` with an incomplete inventory (and `db import --strict` with
 * malformed records); 4 `scan --fail-on` found a finding at or above the threshold. `policy validate`: 1 invalid; `policy test`: 1 deny, 3 warn.
 */
export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  /** Wraps an action so its returned exit code survives commander (which discards return values). */
  const run =
    <A extends unknown[]>(action: (...args: A) => Promise<number | void> | number | void) =>
    async (...args: A) => {
      exitCode = (await action(...args)) ?? 0;
    };

  const program = new Command('agent-bom')
    .description(
      'Self-hosted security control plane for MCP: fleet, discovery, policy, audit, proxy and gateway',
    )
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  program
    .command('api')
    .description('Run the control plane (embedded PostgreSQL unless DATABASE_URL is set)')
    .option('--host <host>', 'interface to listen on (env HOST)')
    .option('--port <port>', 'port to listen on (env PORT)', parsePort)
    .action(
      run(async (options: { host?: string; port?: number }) => {
        const { runControlPlane } = await import('../src/main.js');
        await runControlPlane({ host: options.host, port: options.port });
        return KEEP_RUNNING;
      }),
    );

  program
    .command('worker')
    .description('Run scan jobs from the shared queue only, no HTTP (AGENT_BOM_SCAN_WORKERS at once)')
    .action(
      run(async () => {
        const { runWorker } = await import('../src/worker.js');
        await runWorker();
        return KEEP_RUNNING;
      }),
    );

  program
    .command('migrate')
    .description('Apply pending database migrations (under the same advisory lock the control plane uses)')
    .option('--json', 'machine-readable output')
    .action(
      run(async (options: { json?: boolean }) => (await import('./commands/migrate.js')).migrate(options)),
    );

  const tenants = program.command('tenants').description('Manage tenants with direct database access');
  tenants
    .command('create <id>')
    .description('Create a tenant')
    .option('--name <name>', 'display name (default: the id)')
    .option('--json', 'machine-readable output')
    .action(
      run(async (id: string, options: { name?: string; json?: boolean }) =>
        (await import('./commands/tenants.js')).createTenant(id, options),
      ),
    );
  tenants
    .command('list')
    .description('List tenants')
    .option('--json', 'machine-readable output')
    .action(
      run(async (options: { json?: boolean }) =>
        (await import('./commands/tenants.js')).listTenants(options),
      ),
    );

  const keys = program.command('keys').description('Manage API keys with direct database access');
  keys
    .command('create')
    .description('Create an API key and print it once on stdout')
    .requiredOption('--tenant <id>', 'tenant the key belongs to')
    .requiredOption('--role <role>', 'platform-admin|admin|analyst|viewer|fleet-push|proxy|gateway')
    .option('--name <name>', 'label for humans')
    .option('--expires-in <duration>', 'lifetime such as 30d, 12h or 2w (default: no expiry)')
    .option('--json', 'print the key and its metadata as JSON')
    .action(
      run(
        async (options: {
          tenant: string;
          role: string;
          name?: string;
          expiresIn?: string;
          json?: boolean;
        }) => (await import('./commands/keys.js')).createKey(options),
      ),
    );
  keys
    .command('list')
    .description("List a tenant's API keys (never their secrets)")
    .requiredOption('--tenant <id>', 'tenant')
    .option('--json', 'machine-readable output')
    .action(
      run(async (options: { tenant: string; json?: boolean }) =>
        (await import('./commands/keys.js')).listKeys(options),
      ),
    );
  keys
    .command('revoke <key-id>')
    .description('Revoke an API key')
    .requiredOption('--tenant <id>', 'tenant')
    .option('--json', 'machine-readable output')
    .action(
      run(async (keyId: string, options: { tenant: string; json?: boolean }) =>
        (await import('./commands/keys.js')).revokeKey(keyId, options),
      ),
    );

  program
    .command('agents')
    .description(
      'Discover MCP clients and servers on this endpoint, optionally introspect them, push to the fleet API',
    )
    .addOption(
      new Option('--preset <name>', 'what to collect (see docs/agents.md)')
        .choices(['minimal', 'default', 'enterprise'])
        .default('default'),
    )
    .option('--introspect', 'connect to each server: initialize + tools/list only (never tools/call)')
    .option('--no-introspect', 'do not connect to servers, whatever the preset')
    .option('--timeout <seconds>', `per-server introspection timeout (default 10)`, parsePositiveNumber)
    .option('--concurrency <n>', 'servers introspected at once (default 4)', parseCount)
    .option(
      '--trust-project-servers',
      'also start stdio servers declared in project files when introspecting',
    )
    .option('--home <dir>', "home directory to read (default: the current user's)")
    .option(
      '--project <dir>',
      'project directory to read; repeatable (default: the current directory)',
      collect,
      [],
    )
    .addOption(
      new Option('--os <os>', 'path layout to read (default: this OS)').choices(['darwin', 'linux', 'win32']),
    )
    .option('--push-url <url>', 'fleet sync URL or control-plane base URL (env AGENT_BOM_PUSH_URL)')
    .option('--push-api-key <key>', 'fleet-push API key (env AGENT_BOM_PUSH_API_KEY, preferred)')
    .option(
      '--credential-file <path>',
      'where the endpoint credential is kept (env AGENT_BOM_CREDENTIAL_FILE; default ~/.config/agent-bom/endpoint-credential.json)',
    )
    .option(
      '--source-id <id>',
      'endpoint identity (env AGENT_BOM_SOURCE_ID; default: derived from the machine id)',
    )
    .option(
      '--hostname <name>',
      "endpoint name to report (env AGENT_BOM_HOSTNAME; default: this machine's hostname)",
    )
    .option('--owner <owner>', 'owner of this endpoint (env AGENT_BOM_OWNER)')
    .option('--environment <name>', 'environment of this endpoint (env AGENT_BOM_ENVIRONMENT)')
    .option(
      '--tag <tag>',
      'label for this endpoint; repeatable (env AGENT_BOM_TAGS, comma-separated)',
      collect,
      [],
    )
    .option('--strict', 'exit 3 when a config file or a server could not be read')
    .option('--json', 'print {payload, warnings, push} as JSON on stdout; no progress output')
    .action(run(async (options: AgentsOptions) => (await import('./commands/agents.js')).runAgents(options)));

  const audit = program.command('audit').description('Verify audit exports and apply retention');
  audit
    .command('verify <file>')
    .description('Verify an NDJSON export offline: exit 0 ok, 1 broken (says where), 2 usage')
    .option('--key <pem-file>', 'public key(s) as PEM, or the JSON of /v1/audit/verification-key')
    .option(
      '--key-url <url>',
      'fetch the keys from this URL (e.g. <control plane>/v1/audit/verification-key)',
    )
    .option('--token <token>', 'bearer token for --key-url (default: env AGENT_BOM_TOKEN)')
    .option(
      '--witness <file>',
      'witness file (AGENT_BOM_AUDIT_WITNESS_FILE): the export must reach its latest checkpoint',
    )
    .option('--json', 'machine-readable report')
    .action(
      run(
        async (
          file: string,
          options: { key?: string; keyUrl?: string; token?: string; witness?: string; json?: boolean },
        ) =>
          (await import('./commands/audit-verify.js')).verifyExportFile(file, {
            ...options,
            token: options.token ?? process.env.AGENT_BOM_TOKEN,
          }),
      ),
    );
  audit
    .command('prune')
    .description('Remove entries older than the retention, keeping a signed anchor (direct database access)')
    .option('--tenant <id>', 'only this tenant (default: all)')
    .option('--older-than <duration>', 'e.g. 90d (default: AGENT_BOM_AUDIT_RETENTION_DAYS)')
    .option('--json', 'machine-readable output')
    .action(
      run(async (options: { tenant?: string; olderThan?: string; json?: boolean }) =>
        (await import('./commands/audit-prune.js')).pruneAudit(options),
      ),
    );

  // `agent-bom policy …`: offline work on policy files; loads libs/policy only (no Nest, no database).
  const policy = program
    .command('policy')
    .description('Write, validate and try policy files offline (libs/policy only)');
  policy
    .command('init')
    .description('Write the baseline policy pack to start from (refuses to overwrite without --force)')
    .option('--out <file>', 'file to write, - for stdout (default: policy.json)')
    .option('--force', 'overwrite an existing file')
    .action(
      run(async (options: { out?: string; force?: boolean }) =>
        (await import('./commands/policy.js')).policyInit(options),
      ),
    );
  policy
    .command('validate <file>')
    .description(
      'Check a policy file: exit 0 valid, 1 invalid (each problem with its rule id and field), 2 usage',
    )
    .option('--json', 'machine-readable report')
    .action(
      run(async (file: string, options: { json?: boolean }) =>
        (await import('./commands/policy.js')).policyValidate(file, options),
      ),
    );
  policy
    .command('test <file>')
    .description('Decide one call against a policy file: exit 0 allow, 1 deny, 3 warn, 2 usage')
    .requiredOption('--call <json>', 'the call: {"method"?: "tools/call", "tool": "…", "arguments": {…}}')
    .option('--context <json>', 'who calls: {"agent", "client", "environment", "upstream"}')
    .option('--json', 'print the whole decision as JSON')
    .action(
      run(async (file: string, options: { call: string; context?: string; json?: boolean }) =>
        (await import('./commands/policy.js')).policyTest(file, options),
      ),
    );

  // --- proxy (docs/proxy.md) ---------------------------------------------------------------------------
  program
    .command('proxy')
    .description(
      'Wrap a stdio MCP server: inline policy, detectors, replay detection, trace context, audit to the control plane',
    )
    .usage('[options] -- <command> [args...]')
    .argument('[command]', 'the MCP server to start (after --)')
    .argument('[args...]', 'its arguments')
    .option(
      '--control-plane-url <url>',
      'pull the signed policy bundle and push audit (env AGENT_BOM_API_URL)',
    )
    .option('--control-plane-token <token>', "a 'proxy' role key (env AGENT_BOM_API_TOKEN, preferred)")
    .option('--policy <file>', 'local policy (JSON or YAML); with a control plane, both must allow a call')
    .option('--policy-public-key <file>', 'pin the bundle verification key(s): PEM or JWK')
    .option('--detect-credentials', 'find credentials and personal data in responses and redact them')
    .option('--credential-action <action>', 'redact (default) or block responses that hold credentials')
    .option('--block-undeclared', "refuse tools/call for tools not in the server's tools/list")
    .option(
      '--block-drift',
      'refuse (and withhold) tools that changed or appeared after the first tools/list',
    )
    .option('--argument-detectors <mode>', 'block (default: high severity blocks), warn or off')
    .option(
      '--replay-window <duration>',
      'refuse a repeated id + payload within this window (default 5m; 0 off)',
    )
    .option('--rate-limit <n>', 'calls per tool per minute (default: unlimited)')
    .option('--server-name <name>', 'name of the server in audit events (default: derived from the command)')
    .option('--agent <name>', 'agent name for policy bindings and audit (env AGENT_BOM_AGENT)')
    .option('--environment <name>', 'environment for policy bindings (env AGENT_BOM_ENVIRONMENT)')
    .option('--policy-refresh <duration>', 'how often to refresh the bundle (default 60s)')
    .option('--max-frame-bytes <size>', 'largest JSON-RPC message either way (default 16MiB)')
    .option('--log <file>', 'also write JSON logs and audit events to this file (stdout is the protocol)')
    .option('--audit-file <file>', 'audit events as JSON lines, rotated (env AGENT_BOM_PROXY_AUDIT_FILE)')
    .option('--audit-file-max-size <size>', 'rotate the audit file at this size (default 10MiB)')
    .option('--audit-file-keep <n>', 'rotated audit files kept (default 5)')
    .option('--log-level <level>', 'stderr verbosity: error, warn, info (default) or debug')
    .option(
      '--cache-dir <dir>',
      'bundle cache and audit spool (default: the user cache dir; env AGENT_BOM_CACHE_DIR)',
    )
    .allowExcessArguments()
    .action(
      run(async (command: string | undefined, args: string[], options: ProxyCliOptions) =>
        (await import('../apps/proxy/src/main.js')).runProxy(command, args, options),
      ),
    );

  const db = program.command('db').description('The offline advisory database (OSV format, in PostgreSQL)');
  db.command('import <source>')
    .description("Import OSV advisories from a directory or a .zip such as OSV's <ecosystem>/all.zip")
    .option('--strict', 'exit 3 when any record is malformed (valid ones are still imported)')
    .option('--json', 'machine-readable report')
    .action(
      run(async (source: string, options: { json?: boolean; strict?: boolean }) =>
        (await import('./commands/db.js')).importAdvisories(source, options),
      ),
    );

  program
    .command('scan')
    .description('Scan MCP servers and project lockfiles for vulnerable packages; print or push the results')
    .addOption(
      new Option('--preset <name>', 'what to collect (as for agents)')
        .choices(['minimal', 'default', 'enterprise'])
        .default('default'),
    )
    .option(
      '--introspect',
      'connect to each server and list its live tools (initialize + tools/list only, never tools/call): ' +
        'STARTS the stdio servers of the configs read; feeds tool drift and the graph',
    )
    .option('--no-introspect', 'do not connect to servers, whatever the preset')
    .option('--timeout <seconds>', 'per-server introspection timeout (default 10)', parsePositiveNumber)
    .option('--concurrency <n>', 'servers introspected at once (default 4)', parseCount)
    .option(
      '--trust-project-servers',
      'also start stdio servers declared in project files when introspecting',
    )
    .option('--home <dir>', "home directory to read (default: the current user's)")
    .option('--project <dir>', 'project directory to read (configs and lockfiles); repeatable', collect, [])
    .addOption(
      new Option('--os <os>', 'path layout to read (default: this OS)').choices(['darwin', 'linux', 'win32']),
    )
    .option(
      '--advisories <dir|zip>',
      'offline OSV advisory database (env AGENT_BOM_ADVISORY_DB; else DATABASE_URL)',
    )
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['table', 'json', 'sarif', 'cyclonedx', 'spdx'])
        .default('table'),
    )
    .option('--output <file>', 'write the document to a file (mode 0600) and print the table')
    .addOption(
      new Option('--fail-on <severity>', 'exit 4 when a finding is at or above this severity').choices([
        'low',
        'medium',
        'high',
        'critical',
      ]),
    )
    .option('--push-url <url>', 'control-plane base URL or results push URL (env AGENT_BOM_PUSH_URL)')
    .option('--push-api-key <key>', 'fleet-push API key (env AGENT_BOM_PUSH_API_KEY, preferred)')
    .option(
      '--credential-file <path>',
      'endpoint credential stored by `agents` (env AGENT_BOM_CREDENTIAL_FILE; used instead of the push key when present)',
    )
    .option(
      '--source-id <id>',
      'endpoint identity (env AGENT_BOM_SOURCE_ID; default: derived from the machine id)',
    )
    .option('--hostname <name>', 'endpoint name to report (env AGENT_BOM_HOSTNAME)')
    .option('--owner <owner>', 'owner of this endpoint (env AGENT_BOM_OWNER)')
    .option('--environment <name>', 'environment of this endpoint (env AGENT_BOM_ENVIRONMENT)')
    .action(run(async (options: ScanOptions) => (await import('./commands/scan.js')).runScan(options)));

  // gateway serve: the shared remote MCP relay (apps/gateway); see docs/gateway.md.
  program
    .command('gateway')
    .description('Shared relay for remote MCP servers')
    .command('serve')
    .description('Serve the gateway: streamable HTTP at /mcp/{upstream}, legacy SSE at /sse/{upstream}')
    .option('--bind <host:port>', 'where to listen (default 127.0.0.1:8090; env AGENT_BOM_GATEWAY_BIND)')
    .option(
      '--from-control-plane <url>',
      'control plane to discover upstreams from (env AGENT_BOM_CONTROL_PLANE_URL)',
    )
    .option(
      '--control-plane-token <key>',
      'gateway key of a served tenant; repeat for several tenants (env AGENT_BOM_CONTROL_PLANE_TOKEN, comma-separated)',
      collect,
      [],
    )
    .option(
      '--upstreams <file>',
      'YAML overlay: upstreams with credentials from env (env AGENT_BOM_GATEWAY_UPSTREAMS)',
    )
    .option('--bearer-token <token>', 'static incoming token (env AGENT_BOM_GATEWAY_BEARER_TOKEN, preferred)')
    .option('--policy <file>', 'policy file (JSON or YAML), reloaded when it changes')
    .option('--no-policy-bundle', "do not pull the tenant's signed policy bundle from the control plane")
    .option(
      '--state-dir <dir>',
      "keep each tenant's policy bundle cache and rollback floor here across restarts (env AGENT_BOM_GATEWAY_STATE_DIR; default: memory)",
    )
    .option(
      '--rate-limit-per-tenant <rate>',
      'e.g. 600/min, 10/s (env AGENT_BOM_GATEWAY_RATE_LIMIT_PER_TENANT)',
    )
    .option('--rate-limit-per-tool <rate>', 'per tenant + upstream + tool, e.g. 60/min')
    .addOption(
      new Option('--rate-limit-backend <backend>', 'memory (one replica) or postgres (shared)').choices([
        'memory',
        'postgres',
      ]),
    )
    .option('--rate-limit-database-url <url>', 'PostgreSQL for the shared limiter (default: DATABASE_URL)')
    .option('--discovery-refresh-seconds <n>', 'how often to re-read discovery (default 60)')
    .option('--audit-file <file>', 'audit events as JSON lines, rotated (env AGENT_BOM_GATEWAY_AUDIT_FILE)')
    .option('--audit-file-max-size <size>', 'rotate the audit file at this size (default 10MiB)')
    .option('--audit-file-keep <n>', 'rotated audit files kept (default 5)')
    .option('--allow-insecure-no-auth', 'serve a non-loopback address without incoming authentication')
    .option(
      '--egress-allow <cidr|host-glob>',
      'open an address range or host name pattern to upstream traffic; repeatable (env AGENT_BOM_GATEWAY_EGRESS_ALLOW, comma-separated)',
      collect,
      [],
    )
    .option(
      '--allowed-origin <origin>',
      'browser Origin allowed to call the gateway; repeatable (env AGENT_BOM_GATEWAY_ALLOWED_ORIGINS, comma-separated)',
      collect,
      [],
    )
    .option(
      '--detect-credentials',
      'find credentials and personal data in upstream answers and redact them (env AGENT_BOM_GATEWAY_DETECT_CREDENTIALS)',
    )
    .option(
      '--credential-action <action>',
      'redact (default) or block answers that hold credentials (env AGENT_BOM_GATEWAY_CREDENTIAL_ACTION)',
    )
    .option(
      '--argument-detectors <mode>',
      'block (default: high severity blocks), warn or off (env AGENT_BOM_GATEWAY_ARGUMENT_DETECTORS)',
    )
    .option(
      '--block-undeclared',
      "refuse tools/call for tools not in the upstream's tools/list, per client session (env AGENT_BOM_GATEWAY_BLOCK_UNDECLARED)",
    )
    .option(
      '--block-drift',
      "refuse (and withhold) tools that changed or appeared after the session's first tools/list (env AGENT_BOM_GATEWAY_BLOCK_DRIFT)",
    )
    .option(
      '--replay-window <duration>',
      'refuse a repeated id + payload within a client session for this long (default 5m; 0 off; env AGENT_BOM_GATEWAY_REPLAY_WINDOW)',
    )
    .action(
      run(async (options: Record<string, unknown>) => {
        const { runGateway } = await import('../apps/gateway/src/main.js');
        await runGateway(options);
        return KEEP_RUNNING;
      }),
    );

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; usage errors exit 2 (commander already printed the message).
      return error.exitCode === 0 ? 0 : 2;
    }
    return reportFailure(error);
  }
}

/** Returned by `api`: the process stays up until a signal. */
export const KEEP_RUNNING = -1;

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function parsePositiveNumber(value: string): number {
  const number = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || number <= 0 || number > 3600) {
    throw new InvalidArgumentError('must be a number of seconds (0-3600, above 0)');
  }
  return number;
}

function parseCount(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < 1 || number > 64) throw new InvalidArgumentError('must be 1-64');
  return number;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return port;
}

function reportFailure(error: unknown): number {
  const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
  process.stderr.write(`agent-bom: ${message}\n`);
  return name === 'ConfigError' || name === 'UsageError' ? 2 : 1;
}
