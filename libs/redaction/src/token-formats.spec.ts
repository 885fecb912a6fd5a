import { describe, expect, it } from '@jest/globals';
import { CREDENTIAL_KINDS, PII_KINDS, redactText } from '../../detectors/src/index.js';
import { looksLikeSecret } from './credentials.js';
import { scrubSecrets } from './scrub.js';

// Test values only: made-up strings in each format (AWS's documented example key id, the jwt.io sample token).
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const B62 = 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1V2w3X4y5Z6';
const HEX = '0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9';
const b62 = (n: number) => B62.repeat(4).slice(0, n);
const hex = (n: number) => HEX.repeat(2).slice(0, n);

/**
 * Every token format of both former lists (libs/detectors' CREDENTIAL_PATTERNS and libs/redaction's
 * SECRET_FORMATS), with the kind it is redacted as and the part of the sample that is the secret (it must be
 * gone from every output). One table, so that a format dropped from the shared list fails here.
 */
const FORMATS: ReadonlyArray<readonly [kind: string, sample: string, secret?: string]> = [
  [
    'private_key',
    `-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx4Ue\n${b62(40)}\n-----END RSA PRIVATE KEY-----`,
    b62(40),
  ],
  [
    'private_key',
    `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ`,
    'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ',
  ],
  ['agent_bom_key', `abom_${b62(43)}`],
  ['aws_access_key_id', 'AKIAIOSFODNN7EXAMPLE'],
  ['aws_access_key_id', 'ASIAIOSFODNN7EXAMPLE'],
  ['aws_access_key_id', 'AROAIOSFODNN7EXAMPLE'],
  ['aws_access_key_id', 'AIDAIOSFODNN7EXAMPLE'],
  ['aws_access_key_id', 'AGPAIOSFODNN7EXAMPLE'],
  ['aws_access_key_id', 'ABIAIOSFODNN7EXAMPLE'],
  ['aws_access_key_id', 'ACCAIOSFODNN7EXAMPLE'],
  ['github_token', `ghp_${b62(36)}`],
  ['github_token', `gho_${b62(36)}`],
  ['github_token', `github_pat_11${b62(20)}_${b62(59)}`],
  ['gitlab_token', `glpat-${b62(20)}`],
  ['slack_token', 'xoxb-1234567890-1234567890123-abcdefghijABCDEFGHIJ1234'],
  ['slack_token', `xapp-1-A0123456789-1234567890123-${hex(64)}`],
  ['openai_key', `sk-proj-${b62(48)}`],
  ['openai_key', `sk-${b62(48)}`],
  ['anthropic_key', `sk-ant-api03-${b62(40)}`],
  ['google_api_key', `AIzaSy${b62(33)}`],
  ['google_oauth_token', `ya29.a0Af${b62(40)}`],
  ['npm_token', `npm_${b62(36)}`],
  ['pypi_token', `pypi-AgEIcHlwaS5vcmc${b62(60)}`],
  ['stripe_key', `sk_live_${b62(24)}`],
  ['stripe_key', `rk_live_${b62(24)}`],
  ['stripe_key', `sk_test_${b62(24)}`],
  ['sendgrid_key', `SG.${b62(22)}.${b62(43)}`],
  ['huggingface_token', `hf_${b62(34)}`],
  ['shopify_token', `shpat_${hex(32)}`],
  ['digitalocean_token', `dop_v1_${hex(64)}`],
  ['linear_key', `lin_api_${b62(40)}`],
  ['notion_token', `secret_${b62(43)}`],
  ['notion_token', `ntn_${b62(46)}`],
  ['jwt', JWT],
  ['slack_webhook', `https://hooks.slack.com/services/T0123ABCD/B0123ABCD/${b62(24)}`, b62(24)],
  ['databricks_token', `dapi${hex(32)}`],
  ['vault_token', `hvs.${b62(24)}`],
  ['telegram_bot_token', `123456789:AA${b62(33)}`],
  [
    'aws_secret_access_key',
    'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  ],
  ['azure_storage_key', `AccountKey=${b62(44)}==;`, b62(44)],
  ['azure_sas_signature', `https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=${b62(43)}%3D`, b62(43)],
];

describe('token formats: one list behind the runtime detectors, the ledger scrubber and looksLikeSecret', () => {
  it.each(FORMATS)('the detectors redact %s: %s', (kind, sample, secret = sample) => {
    const detected = redactText(`quoted ${sample} by accident`);
    expect(detected.kinds).toEqual([kind]);
    expect(detected.text).not.toContain(secret);
  });

  it.each(FORMATS)('the ledger scrubber redacts %s: %s', (kind, sample, secret = sample) => {
    const scrubbed = scrubSecrets(`quoted ${sample} by accident`);
    expect(scrubbed.kinds).toEqual([kind]);
    expect(scrubbed.text).toContain(`[redacted:${kind}]`);
    expect(scrubbed.text).not.toContain(secret);
  });

  it.each(FORMATS)('looksLikeSecret catches %s: %s', (_kind, sample) => {
    expect(looksLikeSecret(sample)).toBe(true);
  });

  // The ledger's former list caught these lengths; a token longer than its format, or glued to more of its
  // characters, is taken whole (never half redacted with its tail in clear).
  it.each([
    ['github_token', `ghp_${'a'.repeat(30)}`],
    ['github_token', `ghp_${b62(100)}`],
    ['gitlab_token', `glpat-${b62(70)}`],
    ['agent_bom_key', `abom_${b62(50)}`],
    ['huggingface_token', `hf_${b62(45)}`],
    ['sendgrid_key', `SG.${b62(16)}.${b62(16)}`],
    ['npm_token', `npm_${b62(40)}`],
  ])('%s of another length is redacted whole by every path: %s', (kind, sample) => {
    expect(redactText(`q ${sample} z`).text).toBe(`q [REDACTED:${kind}] z`);
    expect(scrubSecrets(`q ${sample} z`).text).toBe(`q [redacted:${kind}] z`);
    expect(looksLikeSecret(sample)).toBe(true);
  });
});

/**
 * Hostile text for every kind the detectors know: its prefix flooded alone, glued by `-` and `_` (which the
 * `(?<![A-Za-z0-9])` guards let a new attempt start after), and cut short before a required separator. A pattern
 * whose attempts rescan what an earlier attempt read is quadratic on one of these; a test below fails when a kind
 * is added without its prefixes here.
 */
const PREFIXES: Readonly<Record<string, readonly string[]>> = {
  private_key: ['-----BEGIN PRIVATE KEY-----', '-----BEGIN RSA PRIVATE KEY-----\nMIIE'],
  aws_access_key_id: ['AKIA', 'AGPA'],
  aws_secret_access_key: ['aws_secret_access_key=', 'SecretAccessKey: '],
  github_token: ['ghp_', 'github_pat_'],
  gitlab_token: ['glpat-'],
  slack_token: ['xoxb-', 'xapp-'],
  slack_webhook: ['https://hooks.slack.com/services/'],
  stripe_key: ['sk_live_'],
  anthropic_key: ['sk-ant-'],
  openai_key: ['sk-', 'sk-proj-'],
  google_api_key: ['AIza'],
  google_oauth_token: ['ya29.'],
  npm_token: ['npm_'],
  pypi_token: ['pypi-'],
  huggingface_token: ['hf_'],
  sendgrid_key: ['SG.'],
  shopify_token: ['shpat_'],
  digitalocean_token: ['dop_v1_'],
  linear_key: ['lin_api_'],
  notion_token: ['secret_', 'ntn_'],
  databricks_token: ['dapi'],
  vault_token: ['hvs.'],
  telegram_bot_token: ['123456789:AA'],
  agent_bom_key: ['abom_'],
  azure_storage_key: ['AccountKey='],
  azure_sas_signature: ['?sig='],
  jwt: ['eyJ', 'eyJhbGciOiJIUzI1NiJ9.', 'eyJhbGciOiJIUzI1NiJ9.eyJ'],
  connection_string: ['postgres://u:', 'a://'],
  bearer_token: ['Bearer '],
  password_assignment: ['password='],
  credit_card: ['4111 '],
  us_ssn: ['123-45-'],
  iban: ['GB82 '],
  email: ['a@'],
};

const LENGTH = 100_000;
const flood = (unit: string) => unit.repeat(Math.ceil(LENGTH / unit.length)).slice(0, LENGTH);
const HOSTILE = Object.values(PREFIXES).flatMap((prefixes) =>
  prefixes.flatMap((p) => [
    flood(p),
    flood(`${p}-`),
    flood(`${p}_`),
    flood(`${p}a1b2c3d4e5f6!`),
    flood(`-${p}${'a'.repeat(12)}.`),
  ]),
);

describe('token formats stay linear', () => {
  it('every kind the detectors know has hostile inputs here', () => {
    expect(Object.keys(PREFIXES).sort()).toEqual([...CREDENTIAL_KINDS, ...PII_KINDS].sort());
  });

  // CPU time, not wall time (see libs/detectors/src/arguments.spec.ts): linear work on 100,000 characters costs a
  // few milliseconds; a pattern that rescans costs seconds.
  const cpu = (work: () => unknown) => {
    const started = process.cpuUsage();
    work();
    const used = process.cpuUsage(started);
    return (used.user + used.system) / 1000;
  };

  it.each([
    ['the detectors', (text: string) => redactText(text, { kinds: [...CREDENTIAL_KINDS, ...PII_KINDS] })],
    ['the ledger scrubber', (text: string) => scrubSecrets(text)],
    ['looksLikeSecret', (text: string) => looksLikeSecret(text)],
  ])('%s on 100,000-character floods of every prefix', (_path, work) => {
    const slow = HOSTILE.map((text) => [text.slice(0, 40), cpu(() => work(text))] as const).filter(
      ([, ms]) => ms > 400,
    );
    expect(slow).toEqual([]);
  });
});
