/**
 * How one conformance run is read: a scenario the runner could not finish leaves no `checks.json`, and must come
 * out as a named failure (so it is retried and reported), never as a missing row. No runner here: the result
 * directory and the runner's output are written as the runner writes them.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { readResults } from './harness.mjs';

let out: string;
afterEach(() => rmSync(out, { recursive: true, force: true }));

function resultDir(scenario: string, checks: { id: string; status: string }[] | undefined): void {
  const dir = join(out, `server-${scenario}-2026-12-06T11-34-06-252Z`);
  mkdirSync(dir);
  if (checks) writeFileSync(join(dir, 'checks.json'), JSON.stringify(checks));
}

describe('readResults', () => {
  it('reads each checks.json, and names the scenarios that threw, died or were skipped', () => {
    out = mkdtempSync(join(tmpdir(), 'agent-bom-harness-results-'));
    resultDir('passes', [{ id: 'a', status: 'SUCCESS' }]);
    resultDir('fails', [
      { id: 'b', status: 'FAILURE' },
      { id: 'b', status: 'FAILURE' },
      { id: 'c', status: 'WARNING' },
    ]);
    resultDir('threw', undefined); // the runner makes the directory before the scenario runs
    resultDir('died', undefined);
    const stdout = [
      '=== Running scenario: passes ===',
      '=== Running scenario: fails ===',
      '=== Running scenario: threw ===',
      'Failed to run scenario threw: TypeError: fetch failed',
      '    at node:internal/deps/undici',
      '=== Running scenario: skipped ===',
      "SKIPPED: scenario 'skipped' is not applicable at spec version 2025-11-25",
      '=== Running scenario: died ===',
      "Running client scenario 'died' against server: http://127.0.0.1:1/mcp",
      '',
      'Not scored for 2026-07-28: 1 scenario(s) run, 1 failing. These do not affect conformance.',
      '  ✗ fails (pending)',
    ].join('\n');

    const { scenarios, notScored } = readResults(out, stdout, 1);

    expect(scenarios).toEqual({
      passes: { passed: true, failedChecks: [], checks: 1 },
      fails: { passed: false, failedChecks: ['b'], checks: 3 },
      threw: { passed: false, failedChecks: ['(runner error: TypeError: fetch failed)'], checks: 0 },
      died: {
        passed: false,
        failedChecks: [
          "(no result; runner exit 1: Running client scenario 'died' against server: http://127.0.0.1:1/mcp |  | Not scored for 2026-07-28: 1 scenario(s) run, 1 failing. These do not affect conformance. |   ✗ fails (pending))",
        ],
        checks: 0,
      },
    });
    expect(notScored).toEqual({ fails: 'pending' });
  });
});
