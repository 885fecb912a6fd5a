/**
 * The 2026-07-28 `server-stateless` checks that fail through the proxy in the conformance matrix (KNOWN_GAPS in
 * conformance.test.ts), run over stdio without the HTTP bridge: the listen stream's acknowledgement and
 * subscription id, no log without `logLevel`, no independent request on a response stream. The proxy must relay
 * every one of these frames exactly as the server writes them. It does: what fails in the matrix is the time to
 * the first frame (the bridge starts a proxy and a server for every stateless request, the runner reads for
 * 500–800 ms), not a frame (docs/conformance.md).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { CLI } from '../helpers/processes.js';
import { startStdio, type JsonRpcMessage, type StdioDriver } from '../helpers/stdio-driver.js';

const SERVER = path.resolve('test/fixtures/conformance/server.mjs');
const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'stateless-stdio-test', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
const env = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C' };

let drivers: StdioDriver[] = [];
afterEach(async () => {
  await Promise.all(drivers.map((d) => d.close()));
  drivers = [];
});

/** The scenario's stream probes, in its order, over one stdio connection; every frame written back. */
async function probe(driver: StdioDriver): Promise<JsonRpcMessage[]> {
  drivers.push(driver);
  driver.send({
    jsonrpc: '2.0',
    id: 'listen',
    method: 'subscriptions/listen',
    params: { _meta: META, notifications: { toolsListChanged: true } },
  });
  const call = (id: string, name: string, meta: object = META) =>
    driver.request(id, 'tools/call', { name, arguments: {}, _meta: meta });
  await call('trigger', 'test_trigger_tool_change');
  await call('log', 'test_logging_tool');
  await call('elicit', 'test_streaming_elicitation', {
    ...META,
    'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
  });
  return [...driver.messages];
}

describe('2026-07-28 server-stateless stream checks over stdio', () => {
  it('the proxy relays exactly the frames the server writes (ack first and tagged, no log, no request)', async () => {
    const direct = await probe(startStdio(process.execPath, [SERVER, '--stdio'], env));
    const proxied = await probe(
      startStdio(process.execPath, [CLI, 'proxy', '--', process.execPath, SERVER, '--stdio'], env),
    );

    // what the runner checks, on the direct server (so this test cannot pass on a server that never acks)
    expect(direct[0]).toMatchObject({
      method: 'notifications/subscriptions/acknowledged',
      params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 'listen' } },
    });
    expect(direct.some((m) => m.method === 'notifications/message')).toBe(false);
    expect(direct.some((m) => m.method !== undefined && m.id !== undefined)).toBe(false);
    expect(direct.find((m) => m.id === 'elicit')?.result).toMatchObject({ resultType: 'input_required' });

    // and the proxy changes none of it
    expect(proxied).toEqual(direct);
  }, 60_000);
});
