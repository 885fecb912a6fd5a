import type { KeyObject } from 'node:crypto';
import path from 'node:path';
import { ControlPlaneClient, machineSourceId } from '../../../libs/control-plane-client/src/index.js';
import { openAuditFile } from './audit/audit-sink.js';
import { controlPlaneDir, type ProxyConfig } from './config.js';
import type { ProxyLogger } from './logger.js';
import {
  AuditSpool,
  BundlePolicySource,
  DiskBundleStore,
  ToolBaselineStore,
  type AuditFile,
  type VerifiedBundle,
} from '../../../libs/runtime/src/index.js';
import { fromSnapshot, PolicySet } from './policy/policy-set.js';
import { loadPinnedKeys, openLocalPolicy } from './policy/sources.js';

/** What the light start-up path hands to the Nest application. */
export interface Prepared {
  readonly policies: PolicySet;
  readonly bundle?: VerifiedBundle;
  readonly sync?: BundlePolicySource;
  readonly client?: ControlPlaneClient;
  readonly spool?: AuditSpool;
  /** `--audit-file`, opened before the server starts. */
  readonly auditFile?: AuditFile;
  readonly identity: { sourceId: string; sessionId: string };
  /** The tools this server listed last session (cross-session drift). */
  readonly previousTools: { store: ToolBaselineStore; tools: ReadonlyMap<string, string> | undefined };
}

/**
 * Everything that must hold before the server is started: the local policy compiles, pinned keys load, and
 * with a control plane, a verified bundle is in hand (from the cache, or fetched now). Throws
 * `ProxyConfigError` (exit 2) or `FailClosedError` (exit 1); the server is never started without its policy.
 */
export async function prepare(
  config: ProxyConfig,
  logger: ProxyLogger,
  sessionId: string,
): Promise<Prepared> {
  const localFile = config.policyFile ? await openLocalPolicy(config.policyFile) : undefined;
  const baselineStore = ToolBaselineStore.for(config);
  const previousTools = { store: baselineStore, tools: await baselineStore.load() };
  const machine = await machineSourceId().catch(() => ({ sourceId: 'ep-unknown' }));
  const identity = {
    sourceId: `${machine.sourceId}:proxy:${config.serverName.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64)}`,
    sessionId,
  };
  const auditFile = openAuditFile(config, identity, logger);
  const dir = controlPlaneDir(config);
  if (!config.controlPlane || !dir)
    return { policies: new PolicySet(localFile, undefined), identity, previousTools, auditFile };

  const pinned: KeyObject[] | undefined = config.policyPublicKeyFile
    ? await loadPinnedKeys(config.policyPublicKeyFile)
    : undefined;
  const client = new ControlPlaneClient({
    baseUrl: config.controlPlane.url,
    apiKey: config.controlPlane.token,
    userAgent: 'agent-bom-proxy',
    keyHint: '--control-plane-token / AGENT_BOM_API_TOKEN',
  });
  // The proxy's cache and rollback floor are on disk (`--cache-dir`): they survive restarts.
  const sync = new BundlePolicySource({ store: new DiskBundleStore(dir), client, pinned, logger });
  const bundle = await sync.startup();
  if (!bundle) throw new Error('the bundle source gave no bundle'); // only with absentMeansNone, not set here
  const spool = new AuditSpool(path.join(dir, 'spool'), sessionId, config.spoolMaxBytes);
  return {
    policies: new PolicySet(localFile, fromSnapshot('control_plane', bundle.policy)),
    bundle,
    sync,
    client,
    spool,
    identity,
    previousTools,
    auditFile,
  };
}
