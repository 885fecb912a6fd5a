import { describe, expect, it } from '@jest/globals';
import { findSecretPath, pathSegments } from './secret-paths.js';

describe('pathSegments', () => {
  it.each([
    ['a/../.ssh/id_rsa', ['.ssh', 'id_rsa']],
    ['./.env', ['.env']],
    ['/A//B/./c/', ['a', 'b', 'c']],
    ['../../x', ['x']],
    ['file:///home/me/x', ['home', 'me', 'x']],
    ['c:/x/.env. ', ['c:', 'x', '.env']],
    ['x/id_rsa:stream', ['x', 'id_rsa']],
    ['..', []],
  ])('%s', (path, expected) => {
    expect(pathSegments(path)).toEqual(expected);
  });
});

describe('findSecretPath', () => {
  it.each([
    ['~/.ssh/id_rsa', '.ssh/'],
    ['/srv/id_ed25519', 'id_ed25519'],
    ['.env', '.env'],
    ['.env.local', '.env.local'],
    ['/home/me/.aws/credentials', '.aws/'],
    ['/home/me/.kube/config', '.kube/config'],
    ['/home/me/.docker/config.json', '.docker/config.json'],
    ['/home/me/.config/gcloud/application_default_credentials.json', '.config/gcloud'],
    ['/home/me/.npmrc', '.npmrc'],
    ['/etc/shadow', 'etc/shadow'],
    ['%2e%2e/%2E%2E/.SSH/ID_RSA', '.ssh/'],
    ['..%5c..%5c.aws%5ccredentials', '.aws/'],
    ['cat ~/.ss?/x', '.ssh/'],
    ['cat ~/.n*rc', '.npmrc (via glob .n*rc)'],
    ['cat ~/id_*', 'id_rsa (via glob id_*)'],
  ])('%s → %s', (text, secret) => {
    expect(findSecretPath(text)?.secret).toBe(secret);
  });

  it.each([
    'src/env.ts',
    '.env.example',
    '.env.sample',
    'docs/.environment',
    'README.md',
    '/home/me/ssh/id',
    'ls *',
    'a?',
    '',
  ])('not a secret: %j', (text) => {
    expect(findSecretPath(text)).toBeUndefined();
  });

  it.each([
    ['cat ~/.s[r-t]h/x', '.ssh/'],
    ['cat ~/.s[!a-r]h/x', '.ssh/'],
    ['cat ~/.s[^a-r]h/x', '.ssh/'],
    ['cat ~/[-.]env', '.env (via glob [-.]env)'],
    ['cat ~/id_[q-s]sa', 'id_rsa (via glob id_[q-s]sa)'],
    [`cat ~/${'*'.repeat(5_000)}sh/x`, '.ssh/'],
    ['cat ~/[z-a]sh', '.ssh/'], // a class that cannot be read (a backwards range) counts as a hit
  ])('reads the glob in %s → %s', (text, secret) => {
    expect(findSecretPath(text)?.secret).toBe(secret);
  });

  it.each([
    'cat ~/.s[a-r]h/x',
    'cat ~/.s[!s]h/x',
    'cat ~/[]ssh',
    'cat ~/.[e][n][v]', // one literal character: classes alone do not count
    'cat ~/.s[]h',
    `cat ~/.s?${'h'.repeat(20)}`, // needs more characters than any secret name has
    `cat ~/[z-a]${'x'.repeat(20)}`,
    `cat ~/${'['.repeat(5_000)}`,
  ])('no glob hit: %j', (text) => {
    expect(findSecretPath(text)).toBeUndefined();
  });

  it('names the token that hit', () => {
    expect(findSecretPath('tar czf /tmp/x.tgz /home/me/.gnupg && echo done')).toEqual({
      token: '/home/me/.gnupg',
      secret: '.gnupg/',
    });
  });
});
