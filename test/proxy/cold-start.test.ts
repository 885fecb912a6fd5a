import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { CLI } from '../helpers/processes.js';
import { startStdio, type StdioDriver } from '../helpers/stdio-driver.js';

/**
 * The proxy's start-up cost (#16): a stateless client behind a per-request stdio bridge pays the proxy's start and
 * the server's on every request, so they must overlap, not add up.
 */
const node = process.execPath;
const SCRIPTED = path.resolve('test/fixtures/servers/scripted-mcp.mjs');
const START_ORDER = path.resolve('test/fixtures/proxy/start-order.mjs');

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
});
