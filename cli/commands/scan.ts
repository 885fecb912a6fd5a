import { promises as fs } from 'node:fs';
import os from 'node:os';
import {
  RESULTS_PUSH_PATH,
  SCAN_SEVERITIES,
  type ScanReport,
  type ScanSeverity,
} from '../../libs/contracts/src/index.js';
import { loadOsvSource, type AdvisorySource } from '../../libs/advisories/src/index.js';
import {
  ControlPlaneError,
  describeEndpoint,
  displayUrl,
} from '../../libs/control-plane-client/src/index.js';
import {
  DEFAULT_INTROSPECT_TIMEOUT_MS,
  discover,
  type Discovery,
  type DiscoveryOs,
} from '../../libs/discovery/src/index.js';
import { buildScanReport, renderScanTable, toCycloneDx, toSarif, toSpdx } from '../../libs/scan/src/index.js';
import { PRESETS, type PresetName } from '../agents/presets.js';
import { introspectDiscovered, serversToStart, type IntrospectCliOptions } from '../introspect.js';
import { withProgressBar } from '../progress.js';
import { VERSION } from '../version.js';
import {
  checkedLabel,
  nonEmpty,
  pushWithFallback,
  resolvePushTarget,
  type PushOptions,
} from '../push-options.js';
import { hostOs, write } from './agents.js';
import { UsageError } from './usage-error.js';

export const SCAN_FORMATS = ['table', 'json', 'sarif', 'cyclonedx', 'spdx'] as const;
export type ScanFormat = (typeof SCAN_FORMATS)[number];

/** Exit codes of `agent-bom scan` (docs/cli.md). */
export const SCAN_EXIT = { ok: 0, failed: 1, usage: 2, findings: 4 } as const;

export interface ScanOptions extends PushOptions, IntrospectCliOptions {
  preset: PresetName;
  /** Connect to each server and list its live tools (default: the preset's; only `enterprise` does). */
  introspect?: boolean;
  home?: string;
  project?: string[];
  os?: DiscoveryOs;
  advisories?: string;
  format?: ScanFormat;
  output?: string;
  failOn?: ScanSeverity;
  hostname?: string;
  owner?: string;
  environment?: string;
}

/**
 * `agent-bom scan`: the `agents` inventory plus the packages its servers run and the projects' lockfiles,
 * matched against a local advisory database (an OSV directory/zip with `--advisories`, else the control plane's
 * PostgreSQL via DATABASE_URL); prints a table or a document; pushes the result to `POST /v1/results/push`.
 *
 * Security invariants: as `agents` — the push key goes only into the push's Authorization header; the report
 * carries credential names, never values. Nothing is fetched from the network except the push.
 */
export async function runScan(options: ScanOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const preset = PRESETS[options.preset];
  const format = options.format ?? 'table';
  const quiet = format !== 'table' && !options.output;

  const { sourceId, target } = await resolvePushTarget(options, env, { defaultPath: RESULTS_PUSH_PATH });
  const hostname = checkedLabel('--hostname', options.hostname ?? nonEmpty(env.AGENT_BOM_HOSTNAME));
  const owner = checkedLabel('--owner', options.owner ?? nonEmpty(env.AGENT_BOM_OWNER));
  const environment = checkedLabel(
    '--environment',
    options.environment ?? nonEmpty(env.AGENT_BOM_ENVIRONMENT),
  );
  const advisoriesPath = options.advisories ?? nonEmpty(env.AGENT_BOM_ADVISORY_DB);

  const { source, count, close } = await openAdvisories(advisoriesPath, env);
  try {
    const home = options.home ?? os.homedir();
    const projects = options.project?.length
      ? options.project
      : preset.currentDirectory
        ? [process.cwd()]
        : [];
    const discovery = await discover({
      os: options.os ?? hostOs(),
      home,
      appData: options.home ? undefined : nonEmpty(env.APPDATA),
      xdgConfigHome: options.home ? undefined : nonEmpty(env.XDG_CONFIG_HOME),
      projects,
      claudeCodeProjects: preset.claudeCodeProjects,
      knownProjects: preset.knownProjects,
    });
    const warnings = discovery.warnings.map((w) => ({ path: w.path, message: w.message }));
    if (options.introspect ?? preset.introspect) {
      warnings.push(...(await introspect(discovery, options, env, quiet)));
    }
    const report = await withProgressBar('scanning', quiet, (update) =>
      buildScanReport({
        sourceId,
        endpoint: describeEndpoint({ version: VERSION, hostname, owner, environment, tags: [] }),
        agents: discovery.agents,
        projects,
        advisories: source,
        advisoryCount: count,
        warnings,
        onStep: (step, done, total) => update(done, total, step),
      }),
    );

    const document = render(report, format);
    if (options.output) {
      await fs.writeFile(options.output, document, { mode: 0o600 });
      if (format !== 'table') await write(process.stdout, renderScanTable(report));
    } else await write(process.stdout, document);
    if (format === 'table' && report.warnings.length) {
      for (const w of report.warnings) process.stderr.write(`warning: ${w.path}: ${w.message}\n`);
    }

    let exit: number = SCAN_EXIT.ok;
    if (target) {
      try {
        // An enrolled endpoint pushes with its own credential (the control plane refuses any other key for it).
        const result = await pushWithFallback(target, (client) =>
          client.postJson<{ scan_id: string; findings: number }>(target.url, report, {
            forbiddenHint: "this key's role cannot push scan results; use a fleet-push or analyst key",
          }),
        );
        process.stderr.write(
          `pushed scan ${report.scan_id} to ${result.url} (${result.attempts} attempt(s))\n`,
        );
      } catch (error) {
        if (!(error instanceof ControlPlaneError)) throw error;
        process.stderr.write(`agent-bom scan: push to ${displayUrl(target.url)} failed: ${error.message}\n`);
        exit = SCAN_EXIT.failed;
      }
    }
    if (options.failOn && exit === SCAN_EXIT.ok) {
      const threshold = SCAN_SEVERITIES.indexOf(options.failOn);
      const hits = report.findings.filter((f) => SCAN_SEVERITIES.indexOf(f.severity) >= threshold).length;
      if (hits) {
        process.stderr.write(`agent-bom scan: ${hits} finding(s) at or above ${options.failOn}\n`);
        exit = SCAN_EXIT.findings;
      }
    }
    return exit;
  } finally {
    await close();
  }
}

/**
 * `--introspect`: lists every discovered server's live tools (stdio servers are started, remote ones reached over
 * streamable HTTP, falling back to legacy SSE), so tool drift and the graph's server → tool edges see what the
 * servers really expose. Starting the user's stdio servers is announced on stderr first. A server that hangs,
 * crashes or refuses becomes a report warning, never a failed scan.
 */
async function introspect(
  discovery: Discovery,
  options: ScanOptions,
  env: NodeJS.ProcessEnv,
  quiet: boolean,
): Promise<Array<{ path: string; message: string }>> {
  const starting = serversToStart(discovery.servers, options);
  if (starting.length) {
    const seconds = options.timeout ?? DEFAULT_INTROSPECT_TIMEOUT_MS / 1000;
    const names = starting.map((s) => `${s.agent}/${s.server.name}`);
    const listed = names.length > 5 ? `${names.slice(0, 5).join(', ')}, …` : names.join(', ');
    process.stderr.write(
      `warning: --introspect starts ${starting.length} stdio server(s) from the MCP configs read (${listed}), ` +
        `each with its own command and a ${seconds}s timeout, to list their tools (never tools/call)\n`,
    );
  }
  await introspectDiscovered(discovery.servers, options, env, quiet);
  const warnings: Array<{ path: string; message: string }> = [];
  for (const { agent, server, disabled } of discovery.servers) {
    const outcome = server.introspection;
    if (outcome?.status === 'failed' || (outcome?.status === 'skipped' && !disabled)) {
      const what = outcome.status === 'failed' ? 'failed' : 'skipped';
      warnings.push({
        path: server.config_path,
        message: `introspection of ${agent}/${server.name} ${what}: ${outcome.error ?? what}`,
      });
    }
  }
  return warnings;
}

function render(report: ScanReport, format: ScanFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(report, null, 2) + '\n';
    case 'sarif':
      return JSON.stringify(toSarif(report, VERSION), null, 2) + '\n';
    case 'cyclonedx':
      return JSON.stringify(toCycloneDx(report, VERSION), null, 2) + '\n';
    case 'spdx':
      return JSON.stringify(toSpdx(report, VERSION), null, 2) + '\n';
    default:
      return renderScanTable(report);
  }
}

/**
 * The advisory source: an OSV directory or zip read into memory (offline endpoints, CI), else the database
 * `agent-bom db import` filled (DATABASE_URL). With neither, the scan refuses rather than report "no
 * vulnerabilities" from an empty database.
 */
async function openAdvisories(
  path: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<{ source: AdvisorySource; count?: number; close: () => Promise<void> }> {
  if (path) {
    try {
      const { source, malformed } = await loadOsvSource(path);
      if (malformed.length)
        process.stderr.write(
          `warning: ${malformed.length} malformed advisory record(s) in ${path} skipped\n`,
        );
      return { source, count: source.size, close: async () => undefined };
    } catch (error) {
      throw new UsageError(`--advisories ${path}: ${(error as Error).message}`);
    }
  }
  if (!nonEmpty(env.DATABASE_URL)) {
    throw new UsageError(
      'no advisory database: pass --advisories <dir|zip> (OSV format) or set DATABASE_URL after agent-bom db import',
    );
  }
  const { openAdvisoryDatabase } = await import('./advisory-database.js');
  return openAdvisoryDatabase(env.DATABASE_URL!);
}
