import os from 'node:os';
import { FLEET_LIMITS, type FleetSyncPayload, type FleetSyncResult } from '../../libs/contracts/src/index.js';
import {
  type ControlPlaneClient,
  ControlPlaneError,
  describeEndpoint,
  displayUrl,
  FLEET_SYNC_PATH,
} from '../../libs/control-plane-client/src/index.js';
import { discover, type DiscoveryOs } from '../../libs/discovery/src/index.js';
import { writeCredential } from '../agents/endpoint-credential.js';
import { PRESETS, type PresetName } from '../agents/presets.js';
import { renderTable, renderWarnings } from '../agents/render.js';
import {
  checkedLabel,
  nonEmpty,
  pushWithFallback,
  resolvePushTarget,
  type PushOptions,
} from '../push-options.js';
import { introspectDiscovered, type IntrospectCliOptions } from '../introspect.js';
import { VERSION } from '../version.js';
import { UsageError } from './usage-error.js';

export interface AgentsOptions extends PushOptions, IntrospectCliOptions {
  preset: PresetName;
  introspect?: boolean;
  home?: string;
  project?: string[];
  os?: DiscoveryOs;
  hostname?: string;
  owner?: string;
  environment?: string;
  tag?: string[];
  strict?: boolean;
  json?: boolean;
}

/** Exit codes of `agent-bom agents` (docs/agents.md). */
export const AGENTS_EXIT = { ok: 0, pushFailed: 1, usage: 2, incomplete: 3 } as const;

export interface PushReport {
  ok: boolean;
  url: string;
  attempts?: number;
  idempotency_key?: string;
  result?: FleetSyncResult;
  /** This push enrolled the endpoint; its credential was stored in `credential_file` (never printed). */
  enrolled?: boolean;
  /** Which credential pushed: the stored endpoint credential or the shared fleet-push key. */
  credential?: 'endpoint' | 'fleet-push';
  credential_file?: string;
  error?: { kind: string; status?: number; code?: string; request_id?: string; message: string };
}

/**
 * `agent-bom agents`: discover MCP client configs, optionally introspect their servers, print the inventory,
 * and push it to the control plane.
 *
 * Security invariants: the push key is read from the flag or `AGENT_BOM_PUSH_API_KEY` and goes nowhere but the
 * `Authorization` header of the push (never printed, never passed to a server); the payload and every printed
 * line carry credential names only.
 */
export async function runAgents(
  options: AgentsOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const preset = PRESETS[options.preset];
  const introspect = options.introspect ?? preset.introspect;
  const json = options.json === true;

  // Everything that can be wrong with the command line is checked before anything is read or started.
  const { sourceId, target } = await resolvePushTarget(options, env, {
    defaultPath: FLEET_SYNC_PATH,
    onRetry: json
      ? undefined
      : ({ attempt, delayMs, reason }) =>
          process.stderr.write(
            `push attempt ${attempt} failed (${reason}); retrying in ${(delayMs / 1000).toFixed(1)}s\n`,
          ),
  });
  const hostname = checkedLabel('--hostname', options.hostname ?? nonEmpty(env.AGENT_BOM_HOSTNAME));
  const owner = checkedLabel('--owner', options.owner ?? nonEmpty(env.AGENT_BOM_OWNER));
  const environment = checkedLabel(
    '--environment',
    options.environment ?? nonEmpty(env.AGENT_BOM_ENVIRONMENT),
  );
  const tags = [
    ...new Set(
      [...(options.tag ?? []), ...(nonEmpty(env.AGENT_BOM_TAGS)?.split(',') ?? [])].map((t) => t.trim()),
    ),
  ]
    .filter(Boolean)
    .map((tag) => checkedLabel('--tag', tag)!);
  if (tags.length > FLEET_LIMITS.tagsPerEndpoint) {
    throw new UsageError(`at most ${FLEET_LIMITS.tagsPerEndpoint} tags`);
  }

  const layoutOs = options.os ?? hostOs();
  const home = options.home ?? os.homedir();
  const projects = options.project?.length ? options.project : preset.currentDirectory ? [process.cwd()] : [];
  const discovery = await discover({
    os: layoutOs,
    home,
    // The real machine's overrides apply only to the real home.
    appData: options.home ? undefined : nonEmpty(env.APPDATA),
    xdgConfigHome: options.home ? undefined : nonEmpty(env.XDG_CONFIG_HOME),
    projects,
    claudeCodeProjects: preset.claudeCodeProjects,
    knownProjects: preset.knownProjects,
  });

  let introspectionFailures = 0;
  if (introspect) {
    const { failed } = await introspectDiscovered(discovery.servers, options, env, json);
    introspectionFailures = failed.length;
  }

  const payload: FleetSyncPayload = {
    source_id: sourceId,
    endpoint: describeEndpoint({ version: VERSION, hostname, owner, environment, tags }),
    collected_at: new Date().toISOString(),
    agents: discovery.agents,
    ...(discovery.warnings.length
      ? {
          warnings: discovery.warnings
            .slice(0, FLEET_LIMITS.warningsPerSync)
            .map((w) => ({ path: w.path, client: w.client, message: w.message })),
        }
      : {}),
  };

  let push: PushReport | undefined;
  if (target) {
    const { url, credentialFile } = target;
    let used: PushReport['credential'];
    // A revoked or re-enrolled endpoint's credential no longer works: with the shared key, ask to enroll again.
    push = await pushPayload(url, () =>
      pushWithFallback(target, (client, credential) => {
        used = credential;
        return client.syncFleet(payload, { url });
      }),
    );
    push.credential = used;
    const credential = push.result?.endpoint_credential;
    if (push.result && credential) {
      delete push.result.endpoint_credential;
      await writeCredential(credentialFile, {
        control_plane: url.origin,
        source_id: payload.source_id,
        credential,
        enrolled_at: new Date().toISOString(),
      });
      push.enrolled = true;
      push.credential_file = credentialFile;
    }
  }

  if (json) {
    await write(
      process.stdout,
      JSON.stringify({ payload, warnings: discovery.warnings, push: push ?? null }, null, 2) + '\n',
    );
  } else {
    await write(process.stdout, renderTable(payload, discovery.files.length));
    if (discovery.warnings.length) process.stderr.write(renderWarnings(discovery.warnings));
    if (push?.ok && push.result) {
      const { synced, new: created, updated, idempotent_replay: replay } = push.result;
      await write(
        process.stdout,
        `pushed ${synced} agent(s) to ${push.url}: ${created} new, ${updated} updated${replay ? ' (replay)' : ''}\n`,
      );
      if (push.enrolled) {
        await write(
          process.stdout,
          `enrolled this endpoint; its credential is stored in ${push.credential_file}\n`,
        );
      }
    }
  }
  if (push && !push.ok) {
    process.stderr.write(`agent-bom agents: push failed: ${push.error?.message}\n`);
    return AGENTS_EXIT.pushFailed;
  }
  if (options.strict && (discovery.warnings.length || introspectionFailures)) return AGENTS_EXIT.incomplete;
  return AGENTS_EXIT.ok;
}

async function pushPayload(
  url: URL,
  sync: () => ReturnType<ControlPlaneClient['syncFleet']>,
): Promise<PushReport> {
  try {
    const result = await sync();
    return {
      ok: true,
      url: result.url,
      attempts: result.attempts,
      idempotency_key: result.idempotencyKey,
      result: result.body,
    };
  } catch (error) {
    if (!(error instanceof ControlPlaneError)) throw error;
    return {
      ok: false,
      url: displayUrl(url),
      attempts: error.details.attempts,
      error: {
        kind: error.kind,
        status: error.details.status,
        code: error.details.code,
        request_id: error.details.requestId,
        message: error.message,
      },
    };
  }
}

export function hostOs(): DiscoveryOs {
  return process.platform === 'darwin' || process.platform === 'win32' ? process.platform : 'linux';
}

/** Writes and waits until the data is handed to the OS, so `process.exit` cannot cut a piped JSON short. */
export function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (error) => (error ? reject(error) : resolve())));
}
