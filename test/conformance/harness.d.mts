export interface ScenarioResult {
  passed: boolean;
  failedChecks: string[];
  checks: number;
  /** Set when the scenario failed through agent-bom first and passed when run again alone. */
  retriedAfter?: string[];
}
export interface SuiteResult {
  scenarios: Record<string, ScenarioResult>;
  notScored: Record<string, string>;
  stdout: string;
  seconds?: number;
}
export interface Revision {
  id: '2025-11-25' | '2026-07-28';
  args: string[];
  label: string;
}
export interface Path {
  id: 'direct' | 'gateway' | 'gateway-sse' | 'bridge' | 'proxy';
  label: string;
  through: boolean;
  compareWith?: string;
  revisions?: string[];
}
export type Matrix = Record<string, Record<string, SuiteResult>>;
export interface Regression {
  revision: string;
  path: string;
  compareWith: string;
  scenario: string;
  failedChecks: string[];
}
export interface Targets {
  urls: Record<Path['id'], string>;
  egressAllow: boolean;
  gatewayOutput: () => string;
  stop: () => Promise<void>;
}

export const ROOT: string;
export const REVISIONS: Revision[];
export const PATHS: Path[];
export function conformanceNode(): string;
export function startTargets(options?: { node?: string }): Promise<Targets>;
export function runSuite(
  node: string,
  url: string,
  revision: Revision,
  options?: { timeoutMs?: number; scenario?: string },
): Promise<SuiteResult>;
export function runMatrix(
  node: string,
  urls: Targets['urls'],
  options?: {
    concurrency?: number;
    onProgress?: (revision: string, path: string, result: SuiteResult) => void;
  },
): Promise<Matrix>;
export function readResults(
  out: string,
  stdout: string,
  exit: number | string | null | undefined,
): Pick<SuiteResult, 'scenarios' | 'notScored'>;
export function regressions(matrix: Matrix): Regression[];
export function markdownTables(matrix: Matrix): string;
export function gatewayHasEgressAllow(): boolean;
