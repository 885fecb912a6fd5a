import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import { fleetCounts, remoteServer, stdioServer } from '../helpers/fleet.js';

/**
 * The exact answer (status, code, message, details) to malformed, oversized and hostile sync bodies, pinned as the
 * DTOs and the global ValidationPipe gave them before the sync body got its own validator (issue #15): the answers
 * are in test/fixtures/fleet-sync-refusals.json, recorded from that code. Bodies that only look odd (nulls in
 * optional fields, names counted in characters rather than UTF-16 units) keep their status too.
 */
const server = stdioServer('x');
const remote = remoteServer('r', 'https://r.example.com/mcp');
const many = (n: number, make: (i: number) => unknown) => Array.from({ length: n }, (_, i) => make(i));
const agentWith = (extra: object, servers: unknown[] = [server]) => ({
  name: 'a',
  client: 'cursor',
  servers,
  ...extra,
});
const withServer = (extra: object) => ({
  source_id: 's',
  agents: [agentWith({}, [{ ...server, ...extra }])],
});
const withRemote = (extra: object) => ({
  source_id: 's',
  agents: [agentWith({}, [{ ...remote, ...extra }])],
});
const withEndpoint = (endpoint: unknown) => ({ source_id: 's', endpoint, agents: [] });
const withAgent = (extra: object) => ({ source_id: 's', agents: [agentWith(extra)] });
const withWarnings = (warnings: unknown) => ({ source_id: 's', agents: [], warnings });
const emoji = (n: number) => '\u{1F600}'.repeat(n);

export const REFUSED: Array<[string, unknown]> = [
  ['body an array', []],
  ['body a string', 'sync'],
  ['body a number', 42],
  ['empty object', {}],
  ['source_id a number', { source_id: 7, agents: [] }],
  ['source_id empty', { source_id: '', agents: [] }],
  ['source_id too long', { source_id: 's'.repeat(201), agents: [] }],
  ['source_id hostile', { source_id: '../../etc/passwd', agents: [] }],
  ['unknown top-level field', { source_id: 's', agents: [], token: 'secret-value' }],
  ['endpoint a string', withEndpoint('laptop')],
  ['endpoint an array', withEndpoint([])],
  ['endpoint unknown field', withEndpoint({ password: 'secret-value' })],
  ['endpoint hostname a number', withEndpoint({ hostname: 5 })],
  ['endpoint hostname too long', withEndpoint({ hostname: 'h'.repeat(201) })],
  ['endpoint os unknown', withEndpoint({ os: 'beos' })],
  ['endpoint owner too long', withEndpoint({ owner: 'o'.repeat(201) })],
  ['endpoint tags a string', withEndpoint({ tags: 'prod' })],
  ['endpoint tags empty string', withEndpoint({ tags: [''] })],
  ['endpoint tags a number', withEndpoint({ tags: [1] })],
  ['endpoint too many tags', withEndpoint({ tags: many(33, (i) => `t${i}`) })],
  ['collected_at not a date', { source_id: 's', agents: [], collected_at: 'yesterday' }],
  ['collected_at a number', { source_id: 's', agents: [], collected_at: 1700000000 }],
  ['agents missing', { source_id: 's' }],
  ['agents an object', { source_id: 's', agents: {} }],
  ['agents a string', { source_id: 's', agents: 'all' }],
  ['agent a number', { source_id: 's', agents: [1] }],
  ['agent null', { source_id: 's', agents: [null] }],
  ['agent an array', { source_id: 's', agents: [[]] }],
  ['too many agents', { source_id: 's', agents: many(501, (i) => agentWith({ name: `a${i}` }, [])) }],
  ['agent name missing', { source_id: 's', agents: [{ client: 'cursor', servers: [] }] }],
  ['agent name empty', withAgent({ name: '' })],
  ['agent name a number', withAgent({ name: 5 })],
  ['agent name too long', withAgent({ name: 'a'.repeat(201) })],
  ['agent name of 201 emoji', withAgent({ name: emoji(201) })],
  ['agent client missing', { source_id: 's', agents: [{ name: 'a', servers: [] }] }],
  ['agent client unknown', withAgent({ client: 'netscape' })],
  ['agent config_paths a string', withAgent({ config_paths: '/etc' })],
  ['agent config_paths empty entry', withAgent({ config_paths: [''] })],
  ['agent too many config_paths', withAgent({ config_paths: many(65, (i) => `/p${i}`) })],
  ['agent servers missing', { source_id: 's', agents: [{ name: 'a', client: 'cursor' }] }],
  ['agent servers a string', withAgent({ servers: 'x' })],
  ['agent server a number', withAgent({ servers: [5] })],
  ['too many servers', withAgent({ servers: many(201, (i) => ({ ...server, name: `s${i}` })) })],
  ['agent unknown field', withAgent({ env: { TOKEN: 'secret-value' } })],
  ['server name empty', withServer({ name: '' })],
  ['server name too long', withServer({ name: 'n'.repeat(201) })],
  ['server name missing', { source_id: 's', agents: [agentWith({}, [{ ...server, name: undefined }])] }],
  ['server transport unknown', withServer({ transport: 'carrier-pigeon' })],
  ['server command a number', withServer({ command: 5 })],
  ['server command too long', withServer({ command: 'c'.repeat(4097) })],
  ['server args a string', withServer({ args: 'rm -rf /' })],
  ['server args a number entry', withServer({ args: [5] })],
  ['server too many args', withServer({ args: many(129, (i) => `a${i}`) })],
  ['server arg too long', withServer({ args: ['x'.repeat(4097)] })],
  ['server url a number', withRemote({ url: 5 })],
  ['server url ftp', withRemote({ url: 'ftp://r.example.com/' })],
  ['server url too long', withRemote({ url: `https://r.example.com/${'p'.repeat(4080)}` })],
  ['server too many declared_tools', withServer({ declared_tools: many(1001, (i) => `t${i}`) })],
  ['server declared_tools empty name', withServer({ declared_tools: [''] })],
  ['server auth_mode unknown', withServer({ auth_mode: 'password' })],
  ['server auth_mode missing', withServer({ auth_mode: undefined })],
  ['server too many credential_env_names', withServer({ credential_env_names: many(129, (i) => `E${i}`) })],
  ['server credential_env_names a number', withServer({ credential_env_names: [1] })],
  ['server credential_header_names empty', withServer({ credential_header_names: [''] })],
  ['server config_path missing', withServer({ config_path: undefined })],
  ['server config_path empty', withServer({ config_path: '' })],
  ['server scope unknown', withServer({ scope: 'team' })],
  ['server project_path a number', withServer({ project_path: 5 })],
  ['server introspection a string', withServer({ introspection: 'ok' })],
  ['server introspection an array', withServer({ introspection: [] })],
  ['server introspection empty', withServer({ introspection: {} })],
  ['server introspection status unknown', withServer({ introspection: { status: 'great' } })],
  ['server introspection tools a string', withServer({ introspection: { status: 'ok', tools: 'x' } })],
  ['server introspection at not a date', withServer({ introspection: { status: 'ok', at: 'noon' } })],
  [
    'server introspection error too long',
    withServer({ introspection: { status: 'failed', error: 'e'.repeat(1001) } }),
  ],
  [
    'server introspection unknown field',
    withServer({ introspection: { status: 'ok', raw: 'secret-value' } }),
  ],
  ['server unknown field', withServer({ env: { TOKEN: 'secret-value' } })],
  ['warnings a string', withWarnings('none')],
  ['warning a number', withWarnings([5])],
  ['warning empty', withWarnings([{}])],
  ['warning path empty', withWarnings([{ path: '', message: 'm' }])],
  ['warning client unknown', withWarnings([{ path: 'p', message: 'm', client: 'netscape' }])],
  ['warning message too long', withWarnings([{ path: 'p', message: 'm'.repeat(1001) }])],
  ['warning unknown field', withWarnings([{ path: 'p', message: 'm', stack: 'secret-value' }])],
  ['too many warnings', withWarnings(many(101, () => ({ path: 'p', message: 'm' })))],
  [
    'several problems at once',
    {
      source_id: '',
      endpoint: { os: 'beos', extra: 1 },
      agents: [
        agentWith({ client: 'netscape' }, [{ ...server, transport: 'x', args: [5] }]),
        agentWith({ name: '' }, [{ ...remote, url: 'ftp://x' }, 7]),
      ],
      warnings: [{ path: '' }],
    },
  ],
  // Refused after validation, by the service (uniqueness, transport and URL agreement).
  ['duplicate agent', { source_id: 's', agents: [agentWith({}, []), agentWith({}, [])] }],
  ['duplicate server', { source_id: 's', agents: [agentWith({}, [server, server])] }],
  ['remote without url', withServer({ transport: 'sse' })],
  ['stdio with url', withServer({ url: 'https://x.example' })],
  ['javascript: url', withRemote({ url: 'javascript:alert(1)' })],
  ['unparseable url', withRemote({ url: 'https://exa mple.com:99999/' })],
];

/** Accepted bodies at the edges: each is a new endpoint (its own source_id), answered 200. */
export const ACCEPTED: Array<[string, unknown]> = [
  ['agent name of 200 emoji', { source_id: 'ok-emoji', agents: [agentWith({ name: emoji(200) })] }],
  [
    'server name of 200 characters',
    { source_id: 'ok-long', agents: [agentWith({}, [{ ...server, name: 'n'.repeat(200) }])] },
  ],
  [
    'null optional fields',
    { source_id: 'ok-null', collected_at: null, warnings: null, agents: [agentWith({ config_paths: null })] },
  ],
  [
    'all optional fields',
    {
      source_id: 'ok-full',
      collected_at: '2026-12-06T14:00:00Z',
      endpoint: {
        hostname: 'h',
        os: 'darwin',
        os_release: '24',
        agent_bom_version: '1',
        owner: 'o',
        environment: 'e',
        tags: ['t'],
      },
      agents: [
        agentWith({ config_paths: ['/p'] }, [
          {
            ...server,
            declared_tools: ['read'],
            credential_env_names: ['E'],
            credential_header_names: ['H'],
            scope: 'project',
            project_path: '/w',
          },
          {
            ...remote,
            introspection: {
              status: 'ok',
              tools: ['t'],
              protocol_version: '2025-06-18',
              server_name: 'r',
              server_version: '1',
              at: '2026-12-06T14:00:00.000Z',
            },
          },
        ]),
      ],
      warnings: [{ path: '/p', client: 'cursor', message: 'unreadable' }],
    },
  ],
];

const FIXTURE = new URL('../fixtures/fleet-sync-refusals.json', import.meta.url);

describe('fleet sync validation: the answer to every malformed body is pinned', () => {
  let t: TestApp;
  let key: string;
  let counts: string;
  const pinned = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
  beforeAll(async () => {
    t = await startTestApp({ env: { AGENT_BOM_MAX_BODY_BYTES: String(4 * 1024 * 1024) } });
    key = (await createKey(t.app, await createTenant(t.app), 'fleet-push')).raw;
    counts = await fleetCounts((sql) => t.db.dataSource.query(sql));
  });
  afterAll(() => t.close());

  const send = (body: unknown) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/fleet/sync',
      headers: { ...bearer(key), 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });

  it.each(REFUSED)('%s: the same 4xx, code, message and details', async (label, body) => {
    const res = await send(body);
    const { request_id: _id, ...error } = res.json().error;
    expect({ status: res.statusCode, error }).toEqual(pinned[label]);
    expect(res.body).not.toContain('secret-value');
    expect(await fleetCounts((sql) => t.db.dataSource.query(sql))).toBe(counts);
  });

  it.each(ACCEPTED)('%s: accepted', async (_label, body) => {
    const res = await send(body);
    expect({ status: res.statusCode, errors: t.errors() }).toEqual({ status: 200, errors: [] });
  });
});
