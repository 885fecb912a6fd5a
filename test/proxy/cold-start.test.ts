import fs from 'node:fs/promises';
import module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { CLI, runCli } from '../helpers/processes.js';
import { startStdio, type StdioDriver } from '../helpers/stdio-driver.js';

/**
 * The proxy's start-up cost (#16): a stateless client behind a per-request stdio bridge pays the proxy's start and
 * the server's on every request, so they must overlap, not add up.
 */
const node = process.execPath;
const SCRIPTED = path.resolve('test/fixtures/servers/scripted-mcp.mjs');
const START_ORDER = path.resolve('test/fixtures/proxy/start-order.mjs');

/** Node ≥ 22.1 has a compile cache; on older Node the CLI runs without one. */
const withCompileCache =
  typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function';

let root: string;
let driver: StdioDriver | undefined;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'abom-proxy-cold-'));
});
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});
afterAll(async () => fs.rm(root, { recursive: true, force: true }));

describe('proxy cold start', () => {
  it('spawns the MCP server before it loads Nest, so their start-ups overlap', async () => {
    const record = path.join(root, 'start-order.txt');
    driver = startStdio(node, [CLI, 'proxy', '--cache-dir', path.join(root, 'cache'), '--', node, SCRIPTED], {
      PATH: process.env.PATH,
      HOME: root,
      NODE_OPTIONS: `--import ${START_ORDER}`,
      START_ORDER_FILE: record,
    });
    await driver.handshake();
    expect((await driver.request(2, 'tools/list')).result?.tools?.length).toBeGreaterThan(0);
    expect(await fs.readFile(record, 'utf8')).toBe(`spawn ${JSON.stringify(node)}: nest not loaded\n`);
  }, 30_000);

  describe('compile cache', () => {
    const cacheOf = (home: string) => path.join(home, '.cache', 'agent-bom', 'node-compile-cache');
    const entries = async (dir: string) =>
      (await fs.readdir(dir, { recursive: true }).catch(() => [] as string[])).length;
    const home = async (name: string) => {
      const dir = path.join(root, name);
      await fs.mkdir(dir);
      return dir;
    };

    (withCompileCache ? it : it.skip)(
      'is kept in a 0700 directory of the user cache; a second start adds no entry',
      async () => {
        const dir = await home('cached');
        const env = { PATH: process.env.PATH, HOME: dir };
        expect((await runCli(['--version'], env)).code).toBe(0);
        const stat = await fs.stat(cacheOf(dir));
        expect(stat.mode & 0o777).toBe(0o700);
        const written = await entries(cacheOf(dir));
        expect(written).toBeGreaterThan(1);
        expect((await runCli(['--version'], env)).code).toBe(0);
        expect(await entries(cacheOf(dir))).toBe(written);
      },
      30_000,
    );

    it('is off with NODE_DISABLE_COMPILE_CACHE=1 (no directory made)', async () => {
      const dir = await home('disabled');
      const env = { PATH: process.env.PATH, HOME: dir, NODE_DISABLE_COMPILE_CACHE: '1' };
      expect((await runCli(['--version'], env)).code).toBe(0);
      await expect(fs.stat(path.join(dir, '.cache'))).rejects.toThrow(/ENOENT/);
    }, 30_000);

    it('is not used from a directory that others can write', async () => {
      const dir = await home('shared');
      await fs.mkdir(cacheOf(dir), { recursive: true });
      await fs.chmod(cacheOf(dir), 0o777);
      expect((await runCli(['--version'], { PATH: process.env.PATH, HOME: dir })).code).toBe(0);
      expect(await entries(cacheOf(dir))).toBe(0);
    }, 30_000);

    it('is not used through a symlink', async () => {
      const dir = await home('linked');
      const elsewhere = path.join(root, 'elsewhere');
      await fs.mkdir(elsewhere, { mode: 0o700 });
      await fs.mkdir(path.dirname(cacheOf(dir)), { recursive: true });
      await fs.symlink(elsewhere, cacheOf(dir));
      expect((await runCli(['--version'], { PATH: process.env.PATH, HOME: dir })).code).toBe(0);
      expect(await entries(elsewhere)).toBe(0);
    }, 30_000);
  });
});
