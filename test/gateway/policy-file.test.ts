import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startGateway, type RunningGateway } from '../../apps/gateway/src/main.js';
import { callGatewayTool } from '../helpers/gateway.js';
import { startHttpMcpServer, type HttpMcpServer } from '../helpers/mcp-http.js';
import { waitFor } from '../helpers/processes.js';

/**
 * The gateway's `--policy FILE` source refuses what the proxy's always refused: a file that is not a regular file
 * (a directory, a FIFO that would block the read) or larger than 10 MiB, at start and on reload, where a refused
 * reload keeps the last good policy and says why.
 */
const BEARER = 'policy-file-suite-bearer-0123456';
const MIB = 1024 * 1024;

describe('gateway --policy file: size and file type', () => {
  let dir: string;
  let mcp: HttpMcpServer;
  let gateway: RunningGateway | undefined;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'abom-gw-policy-'));
    mcp = await startHttpMcpServer({ tools: ['search', 'fetch'] });
    await fs.writeFile(
      path.join(dir, 'upstreams.yaml'),
      `upstreams:\n  - name: tools\n    url: ${mcp.url}/mcp\n    auth: none\n`,
    );
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await mcp.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const start = (policy: string) =>
    startGateway(
      {
        bind: '127.0.0.1:0',
        upstreams: path.join(dir, 'upstreams.yaml'),
        bearerToken: BEARER,
        policy,
        egressAllow: ['127.0.0.1/32'],
      },
      { LOG_LEVEL: 'silent' },
      () => undefined,
    );
  const deny = (tool: string) =>
    JSON.stringify({ version: 1, rules: [{ id: `no-${tool}`, effect: 'deny', tools: [tool] }] });
  /** A valid policy padded past 10 MiB with whitespace: it parses, so only a size check refuses it. */
  const oversized = (tool: string) => deny(tool) + ' '.repeat(10 * MIB + 1);

  it('refuses to start on a directory given as --policy', async () => {
    await expect(start(dir)).rejects.toThrow(/--policy .*: not a regular file/);
  });

  it('refuses to start on a policy file larger than 10 MiB', async () => {
    const file = path.join(dir, 'policy.json');
    await fs.writeFile(file, oversized('search'));
    await expect(start(file)).rejects.toThrow(/--policy .*: larger than 10 MiB/);
  });

  it('a reload to an oversized file is refused: the last good policy stays, /healthz and the error say why', async () => {
    const file = path.join(dir, 'policy.json');
    await fs.writeFile(file, deny('search'));
    gateway = await start(file);
    // Replaced atomically, as editors and ConfigMap updates do: a 10 MiB write seen half-way is a smaller,
    // valid policy, which a reload would rightly load.
    await fs.writeFile(`${file}.new`, oversized('fetch'));
    await fs.rename(`${file}.new`, file);
    const health = async () =>
      (await (await fetch(`${gateway!.url}/healthz`)).json()) as {
        policy: { file: { last_error: string | null; version: string } };
      };
    await waitFor(async () => (await health()).policy.file.last_error !== null, 10_000);
    expect((await health()).policy.file.last_error).toMatch(/larger than 10 MiB/);
    const call = (name: string) => callGatewayTool(gateway!.url, 'tools', BEARER, name);
    expect((await call('search')).error?.code).toBe(-32001);
    expect((await call('fetch')).error).toBeUndefined();
  }, 30_000);
});
