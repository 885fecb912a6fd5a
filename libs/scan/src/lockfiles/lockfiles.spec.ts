import { describe, expect, it } from '@jest/globals';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExtractionError } from '../errors.js';
import { LOCKFILE_LIMITS } from '../limits.js';
import { scanProjectDirectory } from '../project.js';
import { parseLockfile } from './index.js';

const FIXTURES = path.resolve('test/fixtures/lockfiles');
const read = (name: string) => fs.readFile(path.join(FIXTURES, name), 'utf8');
const purls = async (base: string, fixture = base) =>
  parseLockfile(base, fixture, await read(fixture)).map((p) => `${p.purl} ${p.confidence}`);

function refused(base: string, text: string): string {
  try {
    parseLockfile(base, base, text);
  } catch (error) {
    if (error instanceof ExtractionError) return error.code;
    throw error;
  }
  return 'accepted';
}

describe('lockfile parsers (real formats)', () => {
  it('package-lock v3: installed packages, nested, no links or workspaces', async () => {
    expect(await purls('package-lock.json')).toEqual([
      'pkg:npm/lodash@4.17.20 pinned',
      'pkg:npm/%40scope/x@1.2.3 pinned',
      'pkg:npm/minimist@1.2.5 pinned',
    ]);
  });

  it('package-lock v1: nested dependencies', () => {
    const v1 = JSON.stringify({
      lockfileVersion: 1,
      dependencies: { a: { version: '1.0.0', dependencies: { b: { version: '2.0.0' } } } },
    });
    expect(parseLockfile('package-lock.json', 'x', v1).map((p) => p.purl)).toEqual([
      'pkg:npm/a@1.0.0',
      'pkg:npm/b@2.0.0',
    ]);
  });

  it('pnpm-lock v9 and v6/v5 keys', async () => {
    expect(await purls('pnpm-lock.yaml')).toEqual([
      'pkg:npm/express@4.17.1 pinned',
      'pkg:npm/%40types/node@20.1.0 pinned',
      'pkg:npm/react-dom@18.2.0 pinned',
    ]);
    const v5 =
      'lockfileVersion: 5.4\npackages:\n  /ms/2.0.0:\n    resolution: {integrity: x}\n  /@babel/core/7.1.0_x:\n    dev: true\n';
    expect(parseLockfile('pnpm-lock.yaml', 'x', v5).map((p) => p.purl)).toEqual([
      'pkg:npm/ms@2.0.0',
      'pkg:npm/%40babel/core@7.1.0',
    ]);
  });

  it('yarn.lock classic and berry', async () => {
    expect(await purls('yarn.lock')).toEqual([
      'pkg:npm/%40babel/code-frame@7.12.13 pinned',
      'pkg:npm/minimist@1.2.5 pinned',
    ]);
    expect(await purls('yarn.lock', 'yarn-berry.lock')).toEqual(['pkg:npm/lodash@4.17.20 pinned']);
  });

  it('requirements.txt: pins, ranges, floating; options and URLs skipped', async () => {
    expect(await purls('requirements.txt')).toEqual([
      'pkg:pypi/jinja2@2.10 pinned',
      'pkg:pypi/requests range',
      'pkg:pypi/flask floating',
      'pkg:pypi/urllib3@1.26.4 pinned',
    ]);
  });

  it('poetry.lock and uv.lock skip local sources', async () => {
    expect(await purls('poetry.lock')).toEqual(['pkg:pypi/pyyaml@5.3.1 pinned']);
    expect(await purls('uv.lock')).toEqual(['pkg:pypi/mcp-server-git@0.6.2 pinned']);
  });
});

describe('bad-input: hostile lockfiles are refused with a code', () => {
  it('refuses deep nesting without overflowing the stack', () => {
    const deep = '{"dependencies":'.repeat(100_000) + '{}' + '}'.repeat(100_000);
    expect(refused('package-lock.json', deep)).toBe('LOCKFILE_TOO_DEEP');
    const deepYaml = 'packages:\n  a: ' + '['.repeat(5000) + ']'.repeat(5000) + '\n';
    expect(refused('pnpm-lock.yaml', deepYaml)).toBe('LOCKFILE_TOO_DEEP');
    const deepToml = 'x = ' + '['.repeat(100) + ']'.repeat(100) + '\n';
    expect(refused('uv.lock', deepToml)).toBe('LOCKFILE_TOO_DEEP');
  });

  it('refuses prototype keys anywhere', () => {
    expect(
      refused('package-lock.json', '{"packages":{"node_modules/a":{"version":"1.0.0","__proto__":{"x":1}}}}'),
    ).toBe('LOCKFILE_HOSTILE_KEY');
    expect(refused('pnpm-lock.yaml', 'packages:\n  constructor:\n    prototype: 1\n')).toBe(
      'LOCKFILE_HOSTILE_KEY',
    );
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('refuses install paths that climb out of the project', () => {
    expect(
      refused('package-lock.json', '{"packages":{"node_modules/../../../etc/passwd":{"version":"1.0.0"}}}'),
    ).toBe('LOCKFILE_HOSTILE_PATH');
    expect(refused('package-lock.json', '{"packages":{"/abs/node_modules/a":{"version":"1.0.0"}}}')).toBe(
      'LOCKFILE_HOSTILE_PATH',
    );
  });

  it('refuses huge files, alias bombs and malformed text', () => {
    expect(refused('requirements.txt', 'a==1\n'.repeat(LOCKFILE_LIMITS.maxBytes / 4))).toBe(
      'LOCKFILE_TOO_LARGE',
    );
    const bomb =
      'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n' +
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n';
    expect(refused('pnpm-lock.yaml', bomb)).toBe('LOCKFILE_MALFORMED');
    expect(refused('package-lock.json', '{"packages":')).toBe('LOCKFILE_MALFORMED');
    expect(refused('yarn.lock', 'not a lockfile line\n')).toBe('LOCKFILE_MALFORMED');
  });

  it('names where a malformed YAML lockfile goes wrong, and prints nothing of it on stderr', async () => {
    const warnings: string[] = [];
    const listen = (warning: Error) => warnings.push(warning.message);
    process.on('warning', listen);
    try {
      const message = (name: string, text: string) => {
        try {
          parseLockfile(name, `/p/${name}`, text);
        } catch (error) {
          return (error as ExtractionError).message;
        }
        return 'parsed';
      };
      expect(message('pnpm-lock.yaml', "lockfileVersion: '9.0'\npackages:\n  }\n")).toMatch(
        /^\/p\/pnpm-lock\.yaml: .+ at line 3, column 3$/,
      );
      // An unknown directive is a warning to the YAML parser, which it would print with the text (`process.emitWarning`).
      expect(message('pnpm-lock.yaml', `%${'SECRET'.repeat(10)}\n---\nlockfileVersion: '9.0'\n`)).toBe(
        'parsed',
      );
      expect(message('yarn.lock', `%${'SECRET'.repeat(10)}\n---\n__metadata:\n  version: 6\n`)).toBe(
        'parsed',
      );
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', listen);
    }
  });

  it('refuses too many packages', () => {
    const packages = Object.fromEntries(
      Array.from({ length: LOCKFILE_LIMITS.maxPackages + 1 }, (_, i) => [
        `node_modules/p${i}`,
        { version: '1.0.0' },
      ]),
    );
    expect(refused('package-lock.json', JSON.stringify({ packages }))).toBe('LOCKFILE_TOO_MANY_PACKAGES');
  });
});

describe('scanProjectDirectory', () => {
  it('reads lockfiles, reports refused ones, and does not follow symlinks', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'scan-project-'));
    await fs.copyFile(path.join(FIXTURES, 'uv.lock'), path.join(dir, 'uv.lock'));
    await fs.writeFile(
      path.join(dir, 'package-lock.json'),
      '{"packages":{"node_modules/__proto__":{"__proto__":1}}}',
    );
    await fs.symlink('/etc/passwd', path.join(dir, 'requirements.txt'));
    const scan = await scanProjectDirectory(dir);
    expect(scan.packages.map((p) => p.purl)).toEqual(['pkg:pypi/mcp-server-git@0.6.2']);
    expect(scan.errors.map((e) => e.code).sort()).toEqual(['LOCKFILE_HOSTILE_KEY', 'LOCKFILE_HOSTILE_PATH']);
    await fs.rm(dir, { recursive: true });
  });
});
