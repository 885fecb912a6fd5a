import { FLEET_LIMITS, SOURCE_ID_PATTERN, SOURCE_ID_RULE } from '../libs/contracts/src/index.js';
import {
  ControlPlaneClient,
  ControlPlaneError,
  machineSourceId,
  resolvePushUrl,
  type ControlPlaneClientOptions,
} from '../libs/control-plane-client/src/index.js';
import { credentialPath, readCredential } from './agents/endpoint-credential.js';
import { UsageError } from './commands/usage-error.js';
import { VERSION } from './version.js';

/**
 * The control-plane options `agent-bom agents` and `agent-bom scan` share: each flag, else its environment
 * variable (`AGENT_BOM_PUSH_URL`, `AGENT_BOM_PUSH_API_KEY`, `AGENT_BOM_CREDENTIAL_FILE`, `AGENT_BOM_SOURCE_ID`).
 */
export interface PushOptions {
  pushUrl?: string;
  pushApiKey?: string;
  credentialFile?: string;
  sourceId?: string;
}

/** Where and with which credentials to push; absent when no push URL was given. */
export interface PushTarget {
  url: URL;
  credentialFile: string;
  /** The shared key's client (`--push-api-key`), when one was given. */
  shared?: ControlPlaneClient;
  /** The client of this endpoint's stored credential for this control plane and source id, when enrolled. */
  endpoint?: ControlPlaneClient;
}

/**
 * Checks the push options before anything is read or started and builds the clients. Every mistake (a bad
 * source id, URL or key, no credential at all) is a UsageError: exit 2 with one clear line, the key never in it.
 */
export async function resolvePushTarget(
  options: PushOptions,
  env: NodeJS.ProcessEnv,
  push: { defaultPath: string; onRetry?: ControlPlaneClientOptions['onRetry'] },
): Promise<{ sourceId: string; target?: PushTarget }> {
  const sourceIdText = options.sourceId ?? nonEmpty(env.AGENT_BOM_SOURCE_ID);
  if (sourceIdText !== undefined && !SOURCE_ID_PATTERN.test(sourceIdText)) {
    throw new UsageError(`--source-id ${SOURCE_ID_RULE}`);
  }
  const urlText = options.pushUrl ?? nonEmpty(env.AGENT_BOM_PUSH_URL);
  const url = urlText ? asUsage(() => resolvePushUrl(urlText, push.defaultPath)) : undefined;
  const { sourceId } = sourceIdText ? { sourceId: sourceIdText } : await machineSourceId();
  if (!url) return { sourceId };

  const apiKey = options.pushApiKey ?? nonEmpty(env.AGENT_BOM_PUSH_API_KEY);
  const credentialFile = credentialPath(options.credentialFile, env);
  const stored = await readCredential(credentialFile, url.origin, sourceId);
  if (!apiKey && !stored) {
    throw new UsageError(
      'pushing needs an API key: --push-api-key or AGENT_BOM_PUSH_API_KEY (a fleet-push key), ' +
        `or an endpoint credential in ${credentialFile}`,
    );
  }
  const clientFor = (key: string) =>
    asUsage(
      () =>
        new ControlPlaneClient({
          baseUrl: url.origin,
          apiKey: key,
          userAgent: `agent-bom/${VERSION}`,
          onRetry: push.onRetry,
        }),
    );
  return {
    sourceId,
    target: {
      url,
      credentialFile,
      shared: apiKey ? clientFor(apiKey) : undefined,
      endpoint: stored ? clientFor(stored.credential) : undefined,
    },
  };
}

/**
 * Pushes with the endpoint's stored credential, else with the shared key. A stored credential the control plane
 * refuses (401: an admin revoked or re-enrolled the endpoint) is tried again with the shared key when one was
 * given, which a sync uses to enroll anew and a report to push like an endpoint never enrolled; anything else
 * throws. `push` hears which credential it is given (`agents` reports it).
 */
export async function pushWithFallback<T>(
  target: PushTarget,
  push: (client: ControlPlaneClient, credential: 'endpoint' | 'fleet-push') => Promise<T>,
): Promise<T> {
  if (target.endpoint) {
    try {
      return await push(target.endpoint, 'endpoint');
    } catch (error) {
      const refused = error instanceof ControlPlaneError && error.details.status === 401;
      if (!refused || !target.shared) throw error;
    }
  }
  if (!target.shared) throw new UsageError('pushing needs an API key'); // resolvePushTarget checked it
  return push(target.shared, 'fleet-push');
}

/** A ControlPlaneError from checking options (URL, key) is the user's mistake. */
function asUsage<T>(make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (error instanceof ControlPlaneError) throw new UsageError(error.message);
    throw error;
  }
}

export function nonEmpty(value: string | undefined): string | undefined {
  return value && value.trim() ? value.trim() : undefined;
}

/** An endpoint label (`--hostname`, `--owner`, `--environment`, `--tag`) the control plane will accept. */
export function checkedLabel(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  // eslint-disable-next-line no-control-regex
  if (value.length > FLEET_LIMITS.nameLength || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new UsageError(`${flag} must be at most ${FLEET_LIMITS.nameLength} printable characters`);
  }
  return value;
}
