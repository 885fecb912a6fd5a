import { describe, expect, it } from '@jest/globals';
import { looksLikeSecret } from './credentials.js';
import { scrubSecrets } from './scrub.js';

describe('scrubSecrets', () => {
  it.each([
    ['an agent-bom key', `key abom_${'A'.repeat(43)} leaked`, 'agent_bom_key'],
    ['an AWS access key id', 'AKIAIOSFODNN7EXAMPLE in args', 'aws_access_key_id'],
    ['a GitHub token', `ghp_${'a'.repeat(36)}`, 'github_token'],
    ['a Slack token', 'xoxb-123456789012-abcdefghij', 'slack_token'],
    ['an API key', `sk-ant-${'b'.repeat(40)}`, 'anthropic_key'],
    [
      'a JWT',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
      'jwt',
    ],
    ['a bearer header', 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz', 'bearer_token'],
    ['a password assignment', 'connect with password=hunter2hunter2', 'password_assignment'],
    [
      'a private key',
      '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----',
      'private_key',
    ],
  ])('redacts %s', (_label, text, kind) => {
    const { text: out, kinds } = scrubSecrets(text);
    expect(kinds).toContain(kind);
    expect(out).toContain(`[redacted:${kind}]`);
    for (const secret of [
      'A'.repeat(43),
      'AKIAIOSFODNN7EXAMPLE',
      'hunter2hunter2',
      'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
      'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
    ]) {
      expect(out).not.toContain(secret);
    }
  });

  it.each([
    `glpat-${'c'.repeat(20)}`,
    `npm_${'d'.repeat(36)}`,
    `hf_${'e'.repeat(34)}`,
    `rk_live_${'f'.repeat(24)}`,
    `SG.${'g'.repeat(22)}.${'h'.repeat(43)}`,
    `ya29.${'i'.repeat(30)}`,
    `xapp-1-${'j'.repeat(20)}`,
    `github_pat_${'k'.repeat(22)}`,
    'AROAIOSFODNN7EXAMPLE',
  ])('redacts %s, as every token format the detectors and looksLikeSecret know', (secret) => {
    expect(looksLikeSecret(secret)).toBe(true);
    const { text, kinds } = scrubSecrets(`reason quoted ${secret} by accident`);
    expect(kinds).toHaveLength(1);
    expect(text).toMatch(/^reason quoted \[redacted:[a-z_]+\] by accident$/);
  });

  it.each([
    [`delete_ghp_${'a'.repeat(36)}`, 'github_token'],
    [`ghp_${'a'.repeat(36)}_backup`, 'github_token'],
    [`run_sk-proj-${'b1'.repeat(15)}`, 'openai_key'],
    [`x_npm_${'d'.repeat(36)}`, 'npm_token'],
    ['key_AKIAIOSFODNN7EXAMPLE_old', 'aws_access_key_id'],
    [`tool_xoxb-123456789012-abcdefghij`, 'slack_token'],
  ])('redacts a token glued to a word by "_": %s', (text, kind) => {
    const { text: out, kinds } = scrubSecrets(`tool ${text} denied`);
    expect(kinds).toContain(kind);
    expect(out).not.toMatch(/a{36}|(?:b1){15}|d{36}|IOSFODNN7EXAMPLE|abcdefghij/);
  });

  it('keeps the words around a secret, and the scheme of an Authorization value', () => {
    expect(scrubSecrets('denied: Bearer abcdefghijklmnopqrstu sent to fs').text).toBe(
      'denied: Bearer [redacted:bearer_token] sent to fs',
    );
    expect(scrubSecrets('token: "abcdef123456"').text).toBe('token: "[redacted:password_assignment]"');
  });

  it('leaves ordinary text alone', () => {
    const text = 'tool rm denied by rule no-destructive; path /etc/passwd; token budget exceeded';
    expect(scrubSecrets(text)).toEqual({ text, kinds: [] });
  });

  it('is linear on hostile input', () => {
    const hostile = 'password=' + 'a'.repeat(1000) + ' -----BEGIN PRIVATE KEY-----' + 'b'.repeat(1000);
    const started = process.hrtime.bigint();
    scrubSecrets(hostile.repeat(10));
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(200);
  });
});
