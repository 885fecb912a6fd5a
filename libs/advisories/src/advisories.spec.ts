import { describe, expect, it } from '@jest/globals';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { loadOsvSource } from './load.js';
import { matchPackages } from './match.js';
import { parseOsv } from './osv.js';
import { scoreVector } from './severity.js';

const OSV = path.resolve('test/fixtures/osv');

describe('OSV records (real format)', () => {
  it('parses GHSA records with CVSS-derived severity', async () => {
    const parsed = parseOsv(await fs.readFile(path.join(OSV, 'GHSA-35jh-r3h4-6jhm.json'), 'utf8'));
    expect(parsed.ok).toBe(true);
    if (parsed.ok !== true) return;
    expect(parsed.advisory).toMatchObject({
      id: 'GHSA-35jh-r3h4-6jhm',
      aliases: ['CVE-2021-23337'],
      severity: 'high',
      cvss_score: 7.2,
    });
    expect(parsed.advisory.affected.map((a) => a.name)).toEqual(['lodash', 'lodash-es']);
  });

  it('scores CVSS 3.1 and 4.0 vectors with the library', () => {
    expect(scoreVector('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')?.score).toBe(9.8);
    expect(scoreVector('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N')?.score).toBe(9.3);
    expect(scoreVector('CVSS:3.1/AV:X')).toBeUndefined();
  });

  it('matches real advisories to pinned packages exactly', async () => {
    const { source, malformed } = await loadOsvSource(OSV);
    expect(malformed).toEqual([]);
    expect(source.size).toBe(5);
    const [minimist125, minimist126, lodash, jinja, pyyaml, pyyamlFixed, fs] = await matchPackages(source, [
      { ecosystem: 'npm', name: 'minimist', version: '1.2.5' },
      { ecosystem: 'npm', name: 'minimist', version: '1.2.6' },
      { ecosystem: 'npm', name: 'lodash', version: '4.17.20' },
      { ecosystem: 'pypi', name: 'jinja2', version: '2.10' },
      { ecosystem: 'pypi', name: 'pyyaml', version: '5.3.1' },
      { ecosystem: 'pypi', name: 'pyyaml', version: '5.4' },
      { ecosystem: 'npm', name: '@modelcontextprotocol/server-filesystem', version: '2025.1.14' },
    ]);
    expect(minimist125.map((m) => [m.advisory.id, m.advisory.severity, m.fixed_version])).toEqual([
      ['GHSA-xvch-5gv4-984h', 'critical', '1.2.6'],
    ]);
    expect(minimist126).toEqual([]);
    expect(lodash.map((m) => m.fixed_version)).toEqual(['4.17.21']);
    expect(jinja.map((m) => [m.advisory.id, m.fixed_version])).toEqual([['GHSA-462w-v97r-4m45', '2.10.1']]);
    expect(pyyaml.map((m) => m.advisory.severity)).toEqual(['critical']);
    expect(pyyamlFixed).toEqual([]);
    expect(fs.map((m) => [m.advisory.id, m.fixed_version ?? null])).toEqual([['TEST-0001', null]]);
  });
});

describe('bad-input: malformed OSV records', () => {
  const bad = (doc: unknown) => {
    const parsed = parseOsv(typeof doc === 'string' ? doc : JSON.stringify(doc));
    return parsed.ok === false ? parsed.reason : 'accepted';
  };
  const base = {
    id: 'GHSA-aaaa-bbbb-cccc',
    modified: '2024-01-01T00:00:00Z',
    affected: [
      {
        package: { ecosystem: 'npm', name: 'x' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }],
      },
    ],
  };
  it('names the field that is wrong', () => {
    expect(bad('{')).toMatch(/^not JSON/);
    expect(bad({ ...base, id: '../../etc' })).toMatch(/^id:/);
    expect(bad({ ...base, modified: 'yesterday' })).toMatch(/^modified:/);
    expect(
      bad({
        ...base,
        affected: [
          {
            package: { ecosystem: 'npm', name: 'x' },
            ranges: [{ type: 'SEMVER', events: [{ introduced: '0', fixed: '1' }] }],
          },
        ],
      }),
    ).toMatch(/^affected\.0\.ranges\.0\.events\.0/);
    expect(bad({ ...base, affected: [{ ranges: [{ type: 'WHAT', events: [] }] }] })).toMatch(
      /^affected\.0\.ranges\.0\.type/,
    );
    expect(bad(' '.repeat(3 * 1024 * 1024))).toMatch(/larger than/);
    expect(bad(base)).toBe('accepted');
  });
});
