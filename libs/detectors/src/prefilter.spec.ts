import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import {
  CREDENTIAL_PATTERNS,
  findTextMatches,
  patternsFor,
  TEXT_PATTERNS,
  TOKEN_KINDS,
  type TextMatch,
  type TextPattern,
} from './credentials.js';
import { anchorOf, findMatches, mayMatch } from './prefilter.js';
import { redactJson } from './redact-json.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

// Test values only (documented examples and made-up strings of the right shape), one or more per kind, covering
// every alternative an anchor lists.
const SAMPLES: Record<string, string[]> = {
  private_key: ['-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx4Ue\n-----END RSA PRIVATE KEY-----'],
  aws_access_key_id: ['AKIA', 'ASIA', 'ABIA', 'ACCA', 'AGPA', 'AIDA', 'AROA'].map(
    (p) => `id ${p}IOSFODNN7EXAMPLE.`,
  ),
  aws_secret_access_key: [
    'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    '"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
    'AWS_SECRET=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  ],
  github_token: [
    ...'pousr'.split('').map((c) => `gh${c}_${'a1B2c3D4e5F6g7H8i9J0'.repeat(2).slice(0, 36)}`),
    `github_pat_${'A1b2C3d4E5'.repeat(3)}`,
  ],
  gitlab_token: ['pat', 'dt', 'rt', 'ptt', 'oas'].map((p) => `gl${p}-abcdefghij0123456789`),
  slack_token: [
    ...'abposre'.split('').map((c) => `xox${c}-1234567890-abcdefghij`),
    'xapp-1-A0123-4567890-abcdef',
  ],
  slack_webhook: ['https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX'],
  stripe_key: ['sk_live_', 'rk_test_'].map((p) => `${p}4eC39HqLyjWDarjtT1zdp7dc`),
  anthropic_key: ['sk-ant-api03-abcDEF123456ghiJKL7890mn'],
  openai_key: ['sk-proj-abcDEF123456ghiJKL7890mnopQR', 'sk-abcDEF123456ghiJKL7890mnopQR'],
  google_api_key: ['AIzaSyA-abcdefghijklmnopqrstuvwxyz12345'],
  google_oauth_token: ['ya29.a0AfH6SMBxxxxxxxxxxxxxxxxxxxxxxx'],
  npm_token: ['npm_abcdefghijklmnopqrstuvwxyz0123456789'],
  pypi_token: [`pypi-AgEIcHlwaS5vcmc${'A'.repeat(60)}`, `pypi-${'Zx9_'.repeat(15)}`],
  digitalocean_token: ['doo', 'dop', 'dor'].map((p) => `${p}_v1_${'0a1b2c3d'.repeat(8)}`),
  linear_key: [`lin_api_${'A1b2C3d4'.repeat(5)}`],
  notion_token: ['ntn_', 'secret_'].map((p) => `${p}${'A1b2C3d4E5'.repeat(5)}`),
  huggingface_token: ['hf_abcdefghijklmnopqrstuvwxyz01234567'],
  sendgrid_key: [`SG.${'a'.repeat(22)}.${'b'.repeat(43)}`],
  shopify_token: ['at', 'ss', 'ca', 'pa'].map((p) => `shp${p}_${'a1'.repeat(16)}`),
  databricks_token: [`dapi${'a1'.repeat(16)}`],
  vault_token: ['hvs.', 'hvb.'].map((p) => `${p}${'CAESI'.repeat(6)}`),
  telegram_bot_token: ['123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1'],
  agent_bom_key: [`abom_${'e2ePushKey'.repeat(4)}xyz`],
  azure_storage_key: [`AccountKey=${'A'.repeat(20)}b1C2d3E4f5G6h7I8j9K0lmnopqrs==;`],
  azure_sas_signature: [
    'https://a.blob.core.windows.net/c?sv=2022&sig=abcdefghijklmnopqrstuvwxyz0123456789%2B',
  ],
  jwt: [
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
  ],
  connection_string: [
    'DATABASE_URL=postgres://app:s3cr3t-Pa55@db.internal:5432/app',
    'mongodb+srv://root:hunter22@cluster0.example.net/db',
    `redis://${'u'.repeat(256)}:${'p'.repeat(256)}@host`,
  ],
  bearer_token: [
    'Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0Zz',
    'bearer\t9f8e7d6c5b4a39281706f5e4d3c2b1a0Zz',
  ],
  password_assignment: [
    'password',
    'passwd',
    'pwd',
    'pass',
    'secret',
    'client_secret',
    'clientsecret',
    'api_key',
    'apikey',
    'access_token',
    'auth_token',
    'private_key',
    'secret_key',
  ].flatMap((word) => [
    `${word} = "Tr0ub4dor&3xyz"`,
    `"${word.toUpperCase()}":"Tr0ub4dor&3xyz"`,
    `${word}\t\t:  Tr0ub4dor&3xyz`,
  ]),
  credit_card: ['card 4111 1111 1111 1111 exp', 'amex 378282246310005', '5500-0000-0000-0004'],
  us_ssn: ['SSN: 123-45-6789'],
  iban: ['IBAN GB82 WEST 1234 5698 7654 32', 'DE89370400440532013000'],
  email: ['mail alice@example.com'],
};

/** Every string literal in the detector, redaction and decision-vector test files: what the suites feed in. */
function literalsOf(files: string[]): string[] {
  const out: string[] = [];
  const literal = /'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\]|\\.)*)`/g;
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    for (const match of text.matchAll(literal)) {
      const raw = match[1] ?? match[2] ?? match[3] ?? '';
      out.push(raw);
      try {
        out.push(JSON.parse(`"${raw.replace(/"/g, '\\"')}"`) as string);
      } catch {
        // not a JSON-style escape sequence: the raw text is enough
      }
    }
  }
  return out;
}

function filesUnder(dir: string, suffix: RegExp): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => suffix.test(name))
    .map((name) => path.join(dir, name));
}

const corpus = (() => {
  const base = [
    ...Object.values(SAMPLES).flat(),
    ...literalsOf([
      ...filesUnder(path.join(ROOT, 'libs/detectors/src'), /\.spec\.ts$/),
      ...filesUnder(path.join(ROOT, 'libs/redaction/src'), /\.spec\.ts$/),
      ...filesUnder(path.join(ROOT, 'test/vectors/groups'), /\.json$/),
    ]),
  ];
  const all = new Set<string>();
  for (const text of base) {
    // The value as written, in other cases, glued to words, and broken just inside its anchor.
    for (const variant of [
      text,
      text.toLowerCase(),
      text.toUpperCase(),
      `x_${text}_y`,
      `${text} ${text}`,
      text.slice(1),
      text.slice(0, -1),
    ])
      all.add(variant);
  }
  const values = [...all];
  // Adjacent pairs: a secret assembled from two literals (`'sk_live_' + '…'` in a spec).
  for (let i = 0; i + 1 < base.length; i++) all.add(base[i] + base[i + 1]);
  return [...all, ...values.map((v) => v.replace(/ /g, ''))];
})();

const PATTERN_SETS: Array<[string, readonly TextPattern[]]> = [
  ['the default set', patternsFor(undefined)],
  ['every pattern', TEXT_PATTERNS],
  ['the credential patterns (the argument scan)', CREDENTIAL_PATTERNS],
  ...TEXT_PATTERNS.map((p): [string, readonly TextPattern[]] => [p.kind, [p]]),
];

const simplify = (matches: readonly TextMatch[]) =>
  matches.map((m) => `${m.start}-${m.end}:${m.pattern.kind}`);

describe('the pattern prefilter', () => {
  it('every sample matches its kind (the corpus is not vacuous)', () => {
    for (const [kind, samples] of Object.entries(SAMPLES)) {
      const pattern = TEXT_PATTERNS.find((p) => p.kind === kind);
      if (!pattern) continue; // a kind renamed or dropped on the list: nothing to compare
      for (const sample of samples) {
        expect({ kind, sample, found: findTextMatches(sample, [pattern]).length > 0 }).toEqual({
          kind,
          sample,
          found: true,
        });
      }
    }
  });

  it('finds exactly what the full pattern list finds, for every test string and pattern set', () => {
    expect(corpus.length).toBeGreaterThan(2_000);
    let compared = 0;
    let found = 0;
    for (const [, patterns] of PATTERN_SETS) {
      for (const text of corpus) {
        const full = simplify(findTextMatches(text, patterns));
        const fast = simplify(findMatches(text, patterns));
        if (fast.join() !== full.join()) expect({ text, fast }).toEqual({ text, fast: full });
        compared++;
        found += full.length;
      }
    }
    expect(compared).toBeGreaterThan(50_000);
    expect(found).toBeGreaterThan(500);
  });

  it('every match of a pattern contains its anchor (the anchors are necessary)', () => {
    for (const pattern of TEXT_PATTERNS) {
      const anchor = anchorOf(pattern);
      if (!anchor) continue;
      const regex = new RegExp(pattern.regex.source, pattern.regex.flags.replace('d', ''));
      for (const text of corpus) {
        regex.lastIndex = 0;
        let match: RegExpExecArray | null;
        while ((match = regex.exec(text)) !== null) {
          if (match[0] === '') {
            regex.lastIndex++;
            continue;
          }
          if (!anchor.test(match[0])) expect({ kind: pattern.kind, match: match[0] }).toBe('anchored');
        }
      }
    }
  });

  it('anchors use no assertions, so one absent from a whole JSON text is absent from each string in it', () => {
    for (const pattern of TEXT_PATTERNS) {
      const anchor = anchorOf(pattern);
      // Outside character classes (`[^\s@]` negates a class, it asserts nothing).
      const outside = anchor?.source.replace(/\[(?:\\.|[^\]\\])*\]/g, '') ?? '';
      const assertion = /\^|\$|\\b|\\B|\(\?<?[=!]/.test(outside);
      expect({ kind: pattern.kind, assertion }).toEqual({ kind: pattern.kind, assertion: false });
    }
  });

  it('redactJson with the whole-text prefilter gives the per-value result', () => {
    const values = corpus.slice(0, 3_000);
    for (let i = 0; i < values.length; i += 7) {
      const doc = {
        jsonrpc: '2.0',
        id: i,
        result: { content: values.slice(i, i + 7).map((text) => ({ type: 'text', text })) },
      };
      const text = JSON.stringify(doc);
      const expected = doc.result.content.reduce(
        (n, item) => n + findTextMatches(item.text, patternsFor(undefined)).length,
        0,
      );
      expect({ text, count: redactJson(text).count }).toEqual({ text, count: expected });
    }
  });

  it('a text with no anchor is settled by one test; a secret behind an escape is still found', () => {
    expect(
      mayMatch('{"result":{"content":[{"type":"text","text":"Echo: hello 12345"}]}}', patternsFor(undefined)),
    ).toBe(false);
    expect(findMatches('Echo: hello 12345', CREDENTIAL_PATTERNS)).toEqual([]);
    const escaped = JSON.stringify({ t: 'AKIAIOSFODNN7EXAMPLE' }).replace('AKIA', '\\u0041KIA');
    expect(redactJson(escaped).count).toBe(1);
  });

  it('every anchor is in force: a pattern whose regex changed is named here until its anchor is checked', () => {
    // A lapsed anchor is safe (the pattern then runs on every text) but slow; re-derive it and update its digest.
    const lapsed = TEXT_PATTERNS.filter((p) => !anchorOf(p)).map((p) => p.kind);
    expect(lapsed).toEqual([]);
  });
});

describe('patternsFor', () => {
  it('a frozen list is found by identity, with the same patterns as its content gives', () => {
    const frozen = Object.freeze(['github_token', 'aws_access_key_id']);
    const first = patternsFor(frozen);
    expect(first.map((p) => p.kind).sort()).toEqual(['aws_access_key_id', 'github_token']);
    expect(patternsFor(frozen)).toBe(first);
    expect(patternsFor(['github_token', 'aws_access_key_id'])).toBe(first);
    expect(Object.isFrozen(TOKEN_KINDS)).toBe(true);
    expect(new Set(patternsFor(TOKEN_KINDS).map((p) => p.kind))).toEqual(new Set(TOKEN_KINDS));
  });

  it('a list that is not frozen is read by its content on every call (it may have changed)', () => {
    const kinds = ['github_token'];
    expect(patternsFor(kinds).map((p) => p.kind)).toEqual(['github_token']);
    kinds[0] = 'slack_token';
    expect(patternsFor(kinds).map((p) => p.kind)).toEqual(['slack_token']);
  });
});
