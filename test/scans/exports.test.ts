import { promises as fs, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as CDX from '@cyclonedx/cyclonedx-library';
import Ajv04Module from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import { loadOsvSource } from '../../libs/advisories/src/index.js';
import type { ScanReport } from '../../libs/contracts/src/index.js';
import { toCycloneDx, toSarif, toSpdx } from '../../libs/scan/src/index.js';
import { makeScanFixture, OSV_FIXTURES, PLANTED_SECRET, scanFixture } from './fixture.js';

/** Exports built from a real fixture scan, checked against the official schemas where they are available here. */
describe('exports', () => {
  let fixture: Awaited<ReturnType<typeof makeScanFixture>>;
  let report: ScanReport;
  beforeAll(async () => {
    fixture = await makeScanFixture();
    const { source } = await loadOsvSource(OSV_FIXTURES);
    report = await scanFixture(fixture, source);
  });
  afterAll(() => fs.rm(fixture.root, { recursive: true, force: true }));

  it('CycloneDX 1.6 validates against the official JSON schema (strict)', async () => {
    const bom = toCycloneDx(report, '0.1.0') as {
      components: unknown[];
      services: unknown[];
      vulnerabilities: Array<{ id: string; affects: unknown[] }>;
    };
    const validator = new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot6);
    expect(await validator.validate(JSON.stringify(bom))).toBeNull();
    expect(bom.components).toHaveLength(report.packages.length);
    expect(bom.services).toHaveLength(5);
    expect(bom.vulnerabilities.map((v) => v.id).sort()).toEqual([
      'GHSA-35jh-r3h4-6jhm',
      'GHSA-462w-v97r-4m45',
      'GHSA-8q59-q68h-6hv4',
      'GHSA-xvch-5gv4-984h',
      'TEST-0001',
    ]);
    expect(JSON.stringify(bom)).not.toContain(PLANTED_SECRET);
  });

  it('the validator is not a rubber stamp: a broken BOM is rejected', async () => {
    const bom = toCycloneDx(report, '0.1.0') as Record<string, unknown>;
    const validator = new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot6);
    expect(
      await validator.validate(JSON.stringify({ ...bom, specVersion: 1.6, surprise: true })),
    ).not.toBeNull();
  });

  /**
   * The SARIF 2.1.0 JSON schema (draft-04) as Microsoft ships it in `@microsoft/jest-sarif`
   * (`sarif-2.1.0-rtm.5.json`, the schema SchemaStore and SARIF viewers use), compiled by ajv's draft-04 class.
   */
  const sarifValidator = () => {
    const file = createRequire(import.meta.url).resolve(
      '@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json',
    );
    // CommonJS default exports seen from ESM; `unicodeRegExp: false`: the schema's `language` pattern is not a
    // valid unicode-mode regular expression (a stray `]`), as published.
    const Ajv04 = Ajv04Module.default;
    const addFormats = addFormatsModule.default;
    const ajv = new Ajv04({ allErrors: true, strict: false, unicodeRegExp: false });
    addFormats(ajv);
    return ajv.compile(JSON.parse(readFileSync(file, 'utf8')) as object);
  };

  it('SARIF 2.1.0 validates against the official JSON schema, and the validator rejects a broken log', () => {
    const validate = sarifValidator();
    const sarif = toSarif(report, '0.1.0') as { runs: Array<{ results: Array<Record<string, unknown>> }> };
    expect(validate(sarif) ? [] : validate.errors).toEqual([]);
    const broken = structuredClone(sarif);
    broken.runs[0].results[0].level = 'catastrophic';
    expect(validate(broken)).toBe(false);
    expect(validate({ ...sarif, version: '2.0.0' })).toBe(false);
  });

  it('SARIF 2.1.0 carries the required members', () => {
    const sarif = toSarif(report, '0.1.0') as {
      version: string;
      runs: Array<{
        tool: { driver: { name: string; rules: Array<{ id: string }> } };
        results: Array<{ ruleId: string; message: { text: string }; level: string }>;
      }>;
    };
    expect(sarif.version).toBe('2.1.0');
    const [run] = sarif.runs;
    expect(run.tool.driver.name).toBe('agent-bom');
    const ruleIds = new Set(run.tool.driver.rules.map((r) => r.id));
    for (const result of run.results) {
      expect(ruleIds.has(result.ruleId)).toBe(true);
      expect(result.message.text.length).toBeGreaterThan(0);
      expect(['error', 'warning', 'note', 'none']).toContain(result.level);
    }
    expect(run.results).toHaveLength(report.findings.length);
  });

  // No official SPDX 2.3 JSON schema is available offline here (no npm package ships it); this checks the
  // fields the schema requires, not the schema itself (see docs/scans.md).
  it('SPDX 2.3 carries the required document and package fields', () => {
    const spdx = toSpdx(report, '0.1.0') as {
      spdxVersion: string;
      SPDXID: string;
      dataLicense: string;
      documentNamespace: string;
      creationInfo: { created: string; creators: string[] };
      packages: Array<{
        SPDXID: string;
        downloadLocation: string;
        externalRefs: Array<{ referenceLocator: string }>;
      }>;
      relationships: Array<{ spdxElementId: string; relationshipType: string; relatedSpdxElement: string }>;
    };
    expect(spdx).toMatchObject({
      spdxVersion: 'SPDX-2.3',
      SPDXID: 'SPDXRef-DOCUMENT',
      dataLicense: 'CC0-1.0',
    });
    expect(spdx.creationInfo.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(new URL(spdx.documentNamespace).protocol).toBe('https:');
    // One package per scanned purl (a loop over none would check nothing), each with its own id.
    expect(spdx.packages.map((p) => p.externalRefs[0].referenceLocator)).toEqual(
      report.packages.map((p) => p.purl),
    );
    const ids = spdx.packages.map((p) => p.SPDXID);
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of spdx.packages) {
      expect(p.SPDXID).toMatch(/^SPDXRef-[A-Za-z0-9.-]+$/);
      expect(p.downloadLocation).toBe('NOASSERTION');
    }
    // The document DESCRIBES every package, and nothing else.
    expect(spdx.relationships).toEqual(
      ids.map((id) => ({
        spdxElementId: 'SPDXRef-DOCUMENT',
        relationshipType: 'DESCRIBES',
        relatedSpdxElement: id,
      })),
    );
  });
});
