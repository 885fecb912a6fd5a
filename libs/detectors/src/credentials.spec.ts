import { describe, expect, it } from '@jest/globals';
import { redactCredentials, redactJson, redactText, scanCredentials } from './index.js';

// Test values only: AWS's documented example keys, Stripe/GitHub-shaped strings, the jwt.io sample token.
const AWS_ID = 'AKIAIOSFODNN7EXAMPLE';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const GITHUB = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0'.repeat(2).slice(0, 36);
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const PEM =
  '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx4Ue\nabcdEFGH1234\n-----END RSA PRIVATE KEY-----';

describe('scanCredentials', () => {
  it.each([
    ['github_token', `delete_${GITHUB}`],
    ['github_token', `${GITHUB}_backup`],
    ['openai_key', 'run_sk-proj-' + 'abcDEF123456ghiJKL7890mnopQR'],
    ['npm_token', 'x_npm_' + 'abcdefghijklmnopqrstuvwxyz0123456789'],
    ['aws_access_key_id', `key_${AWS_ID}_old`],
    ['stripe_key', 'pay_sk_live_' + '4eC39HqLyjWDarjtT1zdp7dc'],
  ])('finds %s glued to a word by "_"', (kind, text) => {
    const result = scanCredentials({ content: [{ type: 'text', text: `call ${text} now` }] });
    expect(result.findings.map((f) => f.kind)).toContain(kind);
  });

  it.each([
    ['aws_access_key_id', `export AWS_ACCESS_KEY_ID=${AWS_ID}`],
    ['aws_secret_access_key', `aws_secret_access_key = ${AWS_SECRET}`],
    ['github_token', `token: ${GITHUB}`],
    ['gitlab_token', 'glpat-abcdefghij0123456789'],
    ['slack_token', 'xoxb-1234567890-abcdefghij'],
    ['stripe_key', 'sk_live_' + '4eC39HqLyjWDarjtT1zdp7dc'],
    ['anthropic_key', 'sk-ant-api03-' + 'abcDEF123456ghiJKL7890mn'],
    ['openai_key', 'sk-proj-' + 'abcDEF123456ghiJKL7890mnopQR'],
    ['google_api_key', 'AIza' + 'SyA-abcdefghijklmnopqrstuvwxyz12345'],
    ['npm_token', 'npm_' + 'abcdefghijklmnopqrstuvwxyz0123456789'],
    ['agent_bom_key', 'abom_' + 'e2ePushKey'.repeat(4) + 'xyz'],
    ['private_key', PEM],
    ['jwt', `Authorization header was ${JWT}`],
    ['connection_string', 'DATABASE_URL=postgres://app:s3cr3t-Pa55@db.internal:5432/app'],
    ['connection_string', 'mongodb+srv://root:hunter22@cluster0.example.net/db'],
    ['bearer_token', 'curl -H "Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0Zz"'],
    ['password_assignment', 'db_password = "Tr0ub4dor&3xyz"'],
    ['azure_storage_key', 'AccountKey=' + 'A'.repeat(20) + 'b1C2d3E4f5G6h7I8j9K0lmnopqrs==' + ';'],
    ['credit_card', 'card 4111 1111 1111 1111 exp 12/29'],
    ['credit_card', 'amex 378282246310005'],
    ['us_ssn', 'SSN: 123-45-6789'],
    ['iban', 'IBAN GB82 WEST 1234 5698 7654 32'],
  ])('finds %s', (kind, text) => {
    const result = scanCredentials({ content: [{ type: 'text', text }] });
    expect(result.findings.map((f) => f.kind)).toContain(kind);
    const finding = result.findings.find((f) => f.kind === kind)!;
    expect(finding.path).toBe('$.content[0].text');
    expect(JSON.stringify(finding)).not.toContain(text.slice(-12));
  });

  it.each([
    ['a card number that fails Luhn', '4111 1111 1111 1112'],
    ['an order number', 'order 1234567890123456'],
    ['a timestamp', '1699999999999'],
    ['an SSN-shaped number with a 000 area', '000-12-3456'],
    ['an IBAN that fails mod-97', 'GB82 WEST 1234 5698 7654 33'],
    ['placeholders', 'password = "${DB_PASSWORD}"; postgres://user:****@host/db; password: changeme'],
    ['prose', 'Set the password and the api key in the settings page, then rotate the token.'],
    ['a UUID', '123e4567-e89b-12d3-a456-426614174000'],
    ['a git sha', 'commit 9fceb02d0ae598e95dc970b74767f19372d61af8'],
    ['an email (opt-in only)', 'mail alice@example.com'],
    ['a JWT-shaped string whose header is not JSON', 'eyJhbGciOiJ.eyJzdWIiOiIxMjM0.abc'],
  ])('ignores %s', (_what, text) => {
    expect(scanCredentials({ text }).findings).toEqual([]);
  });

  it('emails on request', () => {
    expect(scanCredentials('alice@example.com', { kinds: ['email'] }).findings[0]).toMatchObject({
      kind: 'email',
      category: 'pii',
      path: '$',
    });
  });

  it('is incomplete past the depth limit and never throws on hostile values', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(scanCredentials(deep).complete).toBe(false);
    expect(scanCredentials({ a: 1, b: null, c: true }).complete).toBe(true);
    const huge = 'x'.repeat(2_000_000);
    expect(() => scanCredentials({ huge })).not.toThrow();
  });
});

describe('redactText / redactCredentials', () => {
  it('replaces only the secret, keeps the context', () => {
    const out = redactText(`user=bob password=Tr0ub4dor&3xyz key=${AWS_ID} end`);
    expect(out.text).toBe(
      'user=bob password=[REDACTED:password_assignment] key=[REDACTED:aws_access_key_id] end',
    );
    expect(out.count).toBe(2);
    expect(out.kinds.sort()).toEqual(['aws_access_key_id', 'password_assignment']);
  });

  it('a private key block is one redaction, not many', () => {
    const out = redactText(`before\n${PEM}\nafter`);
    expect(out.text).toBe('before\n[REDACTED:private_key]\nafter');
  });

  it('a connection string keeps its user and host', () => {
    expect(redactText('postgres://app:s3cr3t-Pa55@db:5432/app').text).toBe(
      'postgres://app:[REDACTED:connection_string]@db:5432/app',
    );
  });

  it('redactCredentials copies, never mutates, and keeps the shape', () => {
    const input = { content: [{ type: 'text', text: `k ${AWS_ID}` }], isError: false, n: 3 };
    const out = redactCredentials(input);
    expect(out.value).toEqual({
      content: [{ type: 'text', text: 'k [REDACTED:aws_access_key_id]' }],
      isError: false,
      n: 3,
    });
    expect(input.content[0].text).toContain(AWS_ID);
    expect(out.count).toBe(1);
  });
});

describe('redactJson', () => {
  it('rewrites only the literals that held a secret; every other byte is kept', () => {
    const text = `{"jsonrpc":"2.0","id":12345678901234567890,"result":{"content":[{"type":"text","text":"key ${AWS_ID}\\nnext"}],"n":1.50}}`;
    const out = redactJson(text);
    expect(out.count).toBe(1);
    expect(out.text).toBe(
      '{"jsonrpc":"2.0","id":12345678901234567890,"result":{"content":[{"type":"text","text":"key [REDACTED:aws_access_key_id]\\nnext"}],"n":1.50}}',
    );
    expect(out.findings).toEqual([
      expect.objectContaining({ kind: 'aws_access_key_id', path: '$.result.content[0].text' }),
    ]);
    expect(() => JSON.parse(out.text)).not.toThrow();
  });

  it('returns the very same string when nothing matches', () => {
    const text = '{"a":["x","y",{"b":"z"}],"c":"d"}';
    expect(redactJson(text).text).toBe(text);
  });

  it('sees secrets spelled with JSON escapes', () => {
    const text = JSON.stringify({ t: PEM }).replace('BEGIN', '\\u0042EGIN');
    const out = redactJson(text);
    expect(out.count).toBe(1);
    expect(JSON.parse(out.text)).toEqual({ t: '[REDACTED:private_key]' });
  });

  it('tracks paths through arrays, nested objects and escaped keys', () => {
    const text = JSON.stringify({ a: [1, { 'we"ird': ['ok', `x ${GITHUB}`] }] });
    expect(redactJson(text).findings[0].path).toBe(`$.a[1]['we"ird'][1]`);
  });

  it('walks 100,000 levels of nesting without recursion', () => {
    const text = '['.repeat(100_000) + `"${AWS_ID}"` + ']'.repeat(100_000);
    expect(redactJson(text).count).toBe(1);
  });
});
