import { describe, expect, it } from '@jest/globals';
import { childEnvironment, expandPlaceholders, quoteForCmd, requestHeaders, spawnPlan } from './launch.js';

describe('expandPlaceholders', () => {
  const env = { TOKEN: 't0k', EMPTY: '', AGENT_BOM_PUSH_API_KEY: 'abom_x' };
  it.each([
    ['Bearer ${TOKEN}', 'Bearer t0k'],
    ['${env:TOKEN}', 't0k'],
    ['${MISSING:-fallback}', 'fallback'],
    ['${EMPTY}', ''],
    ['plain', 'plain'],
  ])('%s → %s', (value, expanded) => expect(expandPlaceholders(value, env)).toBe(expanded));

  it.each(['${MISSING}', '${input:github_token}', '${AGENT_BOM_PUSH_API_KEY}'])(
    '%s cannot be resolved',
    (value) => expect(expandPlaceholders(value, env)).toBeUndefined(),
  );
});

describe('childEnvironment', () => {
  it('inherits only the safe list, then the config env', () => {
    const env = childEnvironment(
      { API_KEY: '${OPERATOR_KEY}', MODE: 'x' },
      { PATH: '/bin', HOME: '/h', OPERATOR_KEY: 'k', AWS_SECRET_ACCESS_KEY: 's', BASH_FUNC_x: '() { :; }' },
      'linux',
    );
    expect(env).toEqual({ PATH: '/bin', HOME: '/h', API_KEY: 'k', MODE: 'x' });
  });

  it('uses the Windows safe list on win32', () => {
    expect(childEnvironment({}, { APPDATA: 'a', PATH: 'p', HOME: 'h' }, 'win32')).toEqual({
      APPDATA: 'a',
      PATH: 'p',
    });
  });
});

describe('requestHeaders', () => {
  it('expands placeholders and drops headers that cannot be sent', () => {
    expect(
      requestHeaders(
        {
          Authorization: 'Bearer ${T}',
          'X-Input': '${input:x}',
          'Bad Name': 'v',
          'X-Nl': 'a\nb',
          'X-Ok': 'v',
        },
        { T: 'tok' },
      ),
    ).toEqual({ Authorization: 'Bearer tok', 'X-Ok': 'v' });
  });
});

describe('spawnPlan', () => {
  it('spawns directly off Windows', () => {
    expect(spawnPlan('npx', ['-y', 'pkg'], {}, 'linux')).toEqual({ command: 'npx', args: ['-y', 'pkg'] });
  });

  it('runs .cmd shims through cmd.exe with quoted, escaped arguments on Windows', () => {
    const env = { PATH: 'C:\\node;C:\\bin', PATHEXT: '.EXE;.CMD', ComSpec: 'C:\\Windows\\cmd.exe' };
    const plan = spawnPlan('npx', ['-y', 'a&b'], env, 'win32', (file) => file === 'C:\\node\\npx.CMD');
    expect(plan.command).toBe('C:\\Windows\\cmd.exe');
    expect(plan.windowsVerbatimArguments).toBe(true);
    expect(plan.args.slice(0, 3)).toEqual(['/d', '/s', '/c']);
    expect(plan.args[3]).toBe('"C:\\node\\npx.CMD ^^^"-y^^^" ^^^"a^^^&b^^^""');
  });

  it('spawns a resolved .exe directly on Windows', () => {
    const plan = spawnPlan(
      'uvx',
      ['x'],
      { PATH: 'C:\\bin', PATHEXT: '.EXE' },
      'win32',
      (f) => f === 'C:\\bin\\uvx.EXE',
    );
    expect(plan).toEqual({ command: 'C:\\bin\\uvx.EXE', args: ['x'] });
  });
});

describe('quoteForCmd', () => {
  it('escapes metacharacters of the command', () => {
    expect(quoteForCmd('C:\\Program Files\\npx.cmd', false)).toBe('C:\\Program^ Files\\npx.cmd');
  });

  it('quotes arguments, doubling backslashes before quotes, and escapes them twice', () => {
    expect(quoteForCmd('a"b', true)).toBe('^^^"a\\^^^"b^^^"');
    expect(quoteForCmd('C:\\dir\\', true)).toBe('^^^"C:\\dir\\\\^^^"');
  });
});
