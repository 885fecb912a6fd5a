import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { reasonOf } from '../../libs/runtime/src/index.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { CLI, waitFor } from '../helpers/processes.js';
import { startStdio, type JsonRpcMessage, type StdioDriver } from '../helpers/stdio-driver.js';

/**
 * The decision vectors (test/vectors/groups/*.json, written by generate.mjs) against the real proxy process
 * (stdio, wrapping test/fixtures/servers/vector-mcp.mjs) and the real gateway process (streamable HTTP, in front
 * of the same server over HTTP). Both must give every vector its expected outcome: decision, reason code and
 * redactions. One proxy and one gateway per group, each carrying one client session (initialized before the
 * first vector: the session steps — replay, undeclared tools, drift — are per session); vectors run in order.
 */
interface Vector {
  id: string;
  /** The JSON-RPC id to send, verbatim (replay vectors reuse one); otherwise a fresh id per vector. */
  request_id?: string;
  step: string;
  message: { method: string; params: Record<string, unknown> };
  expect: { decision: 'allow' | 'warn' | 'deny'; reason_code: string | null; redactions: string[] };
}
interface Group {
  group: string;
  policy: unknown;
  proxy_flags: string[];
  gateway_flags: string[];
  /** Which runtimes run this group (default both); a group for one says why in `gap`. */
  surfaces?: Array<'proxy' | 'gateway'>;
  vectors: Vector[];
}

const DIR = path.resolve('test/vectors/groups');
const SERVER = path.resolve('test/fixtures/servers/vector-mcp.mjs');
const TOKEN = 'vector-suite-bearer-token-0123456789';
const groups: Group[] = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')) as Group);

interface Outcome {
  decision: 'allow' | 'deny';
  reason_code: string | null;
  redactions: string[];
}

function outcomeOf(answer: JsonRpcMessage): Outcome {
  if (answer.error) {
    return {
      decision: 'deny',
      reason_code: reasonOf(answer.error.code) ?? `code ${answer.error.code}`,
      redactions: [],
    };
  }
  const text = JSON.stringify(answer.result ?? {});
  // An SDK server answers a tool it refuses (bad arguments) with isError: count it as invalid_params.
  if ((answer.result as { isError?: boolean } | undefined)?.isError)
    return { decision: 'deny', reason_code: 'invalid_params', redactions: [] };
  const redactions = [...text.matchAll(/\[REDACTED:([a-z_]+)\]/g)].map((m) => m[1]!).sort();
  return { decision: 'allow', reason_code: null, redactions };
}

const wire = (expected: Vector['expect']): Outcome => ({
  decision: expected.decision === 'warn' ? 'allow' : expected.decision,
  reason_code: expected.reason_code,
  redactions: expected.redactions,
});

/** The JSON-RPC answer with `id` in a gateway response (a JSON body, or the SSE stream the server chose). */
async function answerOf(res: Response, id: string): Promise<JsonRpcMessage> {
  const text = await res.text();
  if (!String(res.headers.get('content-type')).includes('event-stream'))
    return JSON.parse(text) as JsonRpcMessage;
  const data = text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice(6)) as JsonRpcMessage);
  return data.find((m) => m.id === id)!;
}

/** Initializes one client session through the gateway (as the proxy's driver does over stdio); its id. */
async function openGatewaySession(url: string): Promise<string> {
  const headers = {
    authorization: `Bearer ${TOKEN}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  const res = await fetch(`${url}/mcp/vec`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 'init',
      method: 'initialize',
      params: {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'vector-suite', version: '1.0.0' },
      },
    }),
  });
  const session = res.headers.get('mcp-session-id');
  const answer = await answerOf(res, 'init');
  if (!session || !answer.result) throw new Error(`gateway initialize failed: ${JSON.stringify(answer)}`);
  const done = await fetch(`${url}/mcp/vec`, {
    method: 'POST',
    headers: { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await done.arrayBuffer();
  return session;
}

let upstream: ChildProcess;
let upstreamUrl: string;
let work: string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-bom-vectors-'));
  upstream = spawn(process.execPath, [SERVER, '--http'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  upstream.stdout!.on('data', (d) => (out += d));
  await waitFor(() => /listening on (http:\S+)/.test(out), 20_000);
  upstreamUrl = /listening on (http:\S+)/.exec(out)![1]!;
}, 30_000);

afterAll(() => {
  upstream?.kill('SIGKILL');
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

it('there are at least 200 vectors and every step is covered', () => {
  const all = groups.flatMap((g) => g.vectors);
  expect(all.length).toBeGreaterThanOrEqual(200);
  expect(new Set(all.map((v) => v.id)).size).toBe(all.length);
});

describe.each(groups.map((g) => [g.group, g] as const))('vectors: %s', (_name, group) => {
  let proxy: StdioDriver;
  let gateway: GatewayProcess;
  let proxyLog: string;
  let gatewaySession: string | undefined;
  let nextId = 1;

  const surfaces = group.surfaces ?? ['proxy', 'gateway'];

  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(work, `${group.group}-`));
    const policyArgs: string[] = [];
    if (group.policy) {
      const file = path.join(dir, 'policy.json');
      fs.writeFileSync(file, JSON.stringify(group.policy));
      policyArgs.push('--policy', file);
    }
    proxyLog = path.join(dir, 'proxy.log');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LOG_LEVEL: 'info',
      AGENT_BOM_CACHE_DIR: path.join(dir, 'cache'),
    };
    delete env.AGENT_BOM_API_TOKEN;
    delete env.AGENT_BOM_CONTROL_PLANE_URL;
    proxy = startStdio(
      process.execPath,
      [
        CLI,
        'proxy',
        ...policyArgs,
        ...group.proxy_flags,
        '--log',
        proxyLog,
        '--server-name',
        'vec',
        '--',
        process.execPath,
        SERVER,
      ],
      env,
    );
    await proxy.handshake();
    if (!surfaces.includes('gateway')) return;
    const overlay = path.join(dir, 'upstreams.yaml');
    fs.writeFileSync(
      overlay,
      `upstreams:\n  - name: vec\n    url: ${upstreamUrl}/mcp\n    auth: none\n    transport: streamable-http\n`,
    );
    gateway = await startGateway(
      [
        '--bind',
        '127.0.0.1:0',
        '--upstreams',
        overlay,
        '--egress-allow',
        '127.0.0.1/32',
        ...policyArgs,
        ...group.gateway_flags,
      ],
      { ...env, AGENT_BOM_GATEWAY_BEARER_TOKEN: TOKEN },
    );
    gatewaySession = await openGatewaySession(gateway.url);
    // The gateway's limiter windows are aligned to the clock (a per-minute rate: to the minute), and right after
    // a boundary that follows a full window one more call fits (docs/gateway.md "Rate limits"). The group's calls
    // take a few seconds: start them where no boundary can fall among them.
    if (group.gateway_flags.some((flag) => flag.startsWith('--rate-limit'))) {
      const left = 60_000 - (Date.now() % 60_000);
      if (left < 20_000) await new Promise((resolve) => setTimeout(resolve, left + 100));
    }
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    await gateway?.stop();
  });

  const viaGateway = async (id: string, message: Vector['message']): Promise<JsonRpcMessage> => {
    const res = await fetch(`${gateway.url}/mcp/vec`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
        ...(gatewaySession ? { 'mcp-session-id': gatewaySession } : {}),
      },
      body: JSON.stringify({ jsonrpc: '2.0', id, ...message }),
    });
    return answerOf(res, id);
  };

  /** Whether the runtime left a `tool_call.warned` record for this request id. */
  const warned = async (read: () => string, id: string) => {
    try {
      await waitFor(
        () =>
          read()
            .split('\n')
            .some((l) => l.includes('tool_call.warned') && l.includes(id)),
        5000,
      );
      return true;
    } catch {
      return false;
    }
  };

  it.each(group.vectors.map((v) => [v.id, v.step, v] as const))(
    '%s (%s)',
    async (_id, _step, vector) => {
      const id = vector.request_id ?? `${vector.id}-${nextId++}`;
      const expected = wire(vector.expect);
      const got: Record<string, Outcome> = {};
      const want: Record<string, Outcome> = {};
      if (surfaces.includes('proxy')) {
        // A replayed id is answered twice on stdio: take the answer this send produced.
        const answers = () => proxy.messages.filter((m) => m.id === id && !m.method);
        const before = answers().length;
        proxy.send({ jsonrpc: '2.0', id, ...vector.message });
        await waitFor(() => answers().length > before, 15_000);
        got.proxy = outcomeOf(answers()[before]!);
        want.proxy = expected;
      }
      if (surfaces.includes('gateway')) {
        got.gateway = outcomeOf(await viaGateway(id, vector.message));
        want.gateway = expected;
      }
      expect(got).toEqual(want);
      if (vector.expect.decision === 'warn') {
        const proxyRecord = () => (fs.existsSync(proxyLog) ? fs.readFileSync(proxyLog, 'utf8') : '');
        expect({
          proxy: surfaces.includes('proxy') ? await warned(proxyRecord, id) : true,
          gateway: surfaces.includes('gateway') ? await warned(() => gateway.output(), id) : true,
        }).toEqual({ proxy: true, gateway: true });
      }
    },
    20_000,
  );
});
