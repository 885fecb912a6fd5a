import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startServer } from '../helpers/processes.js';

/**
 * The Dockerfile's recipe, run without Docker (no image can be built on these machines): each stage gets a
 * clean directory standing for its filesystem, COPY takes from the build context as .dockerignore filters it
 * (or from an earlier stage), RUN runs its command there — `npm ci`, `npm run build`, `npm ci --omit=dev` — and
 * the runtime stage's ENTRYPOINT + CMD starts the control plane, which must become ready on PostgreSQL. The
 * runtime stage must hold no dev dependency, run as a non-root user, and serve every entry point.
 */

interface Stage {
  name: string;
  root: string;
  workdir: string;
  env: Record<string, string>;
  user?: string;
  entrypoint?: string[];
  cmd?: string[];
}

const REPO = path.resolve('.');
const dockerfile = readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const [, op, rest] = /^(\w+)\s+(.*)$/.exec(l)!;
    return { op: op!.toUpperCase(), rest: rest! };
  });

/** .dockerignore as regular expressions on context-relative paths. */
const ignored = readFileSync(path.join(REPO, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((pattern) => {
    const body = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*\*\//g, '\uE000')
      .replace(/\*/g, '[^/]*')
      .replace(/\uE000/g, '(.*/)?');
    return new RegExp(`^${body}(/.*)?$`);
  });
const isIgnored = (rel: string) => ignored.some((re) => re.test(rel));

/** RUN: `sh -c` in the stage's workdir, with the stage's ENV. */
function sh(command: string, cwd: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`RUN ${command} failed (${code}):\n${output}`)),
    );
  });
}

const base = mkdtempSync(path.join(os.tmpdir(), 'agent-bom-dockerfile-'));
const stages = new Map<string, Promise<Stage>>();

/**
 * Runs one stage. Stages run concurrently, as BuildKit runs them; `COPY --from` waits for its stage. The build
 * stage's full `npm ci` is the one step not re-run: the checkout's node_modules, installed by the same `npm ci`
 * from the same lockfile, is linked in its place (the production install, the build and the start are re-run).
 */
async function runStage(name: string, body: { op: string; rest: string }[]): Promise<Stage> {
  const stage: Stage = { name, root: path.join(base, name), workdir: '/', env: {} };
  mkdirSync(stage.root);
  const inStage = (p: string) => path.join(stage.root, path.isAbsolute(p) ? p : path.join(stage.workdir, p));
  for (const { op, rest } of body) {
    if (op === 'WORKDIR') {
      stage.workdir = rest;
      mkdirSync(inStage('.'), { recursive: true });
    } else if (op === 'ENV') {
      for (const m of rest.matchAll(/(\w+)=(\S+)/g)) stage.env[m[1]!] = m[2]!;
    } else if (op === 'COPY') {
      const parts = rest.split(/\s+/);
      const from = parts[0]!.startsWith('--from=') ? parts.shift()!.slice('--from='.length) : undefined;
      const dest = parts.pop()!;
      for (const source of parts) {
        const target = inStage(
          dest.endsWith('/') || parts.length > 1 ? path.join(dest, path.basename(source)) : dest,
        );
        mkdirSync(path.dirname(target), { recursive: true });
        if (from) {
          const origin = await stages.get(from)!;
          cpSync(path.join(origin.root, source), target, { recursive: true });
        } else {
          if (isIgnored(source)) throw new Error(`COPY ${source}: excluded by .dockerignore`);
          cpSync(path.join(REPO, source), target, {
            recursive: true,
            filter: (src) => !isIgnored(path.relative(REPO, src)),
          });
        }
      }
    } else if (op === 'RUN') {
      if (rest === 'npm ci --no-audit --no-fund')
        symlinkSync(path.join(REPO, 'node_modules'), inStage('node_modules'));
      else await sh(rest, inStage('.'), stage.env);
    } else if (op === 'USER') {
      stage.user = rest;
    } else if (op === 'ENTRYPOINT') {
      stage.entrypoint = JSON.parse(rest) as string[];
    } else if (op === 'CMD') {
      stage.cmd = JSON.parse(rest) as string[];
    } else if (op !== 'EXPOSE') {
      throw new Error(`Dockerfile instruction ${op} is not emulated by this test`);
    }
  }
  return stage;
}

/** Runs every stage; returns them in Dockerfile order. */
async function build(): Promise<Stage[]> {
  let current: { name: string; body: { op: string; rest: string }[] } | undefined;
  const order: string[] = [];
  const start = () => {
    if (current) stages.set(current.name, runStage(current.name, current.body));
  };
  for (const instruction of instructions) {
    if (instruction.op === 'ARG' && !current) continue;
    if (instruction.op === 'FROM') {
      start();
      current = { name: / AS (\S+)$/i.exec(instruction.rest)?.[1] ?? `stage${order.length}`, body: [] };
      order.push(current.name);
    } else current!.body.push(instruction);
  }
  start();
  return Promise.all(order.map((n) => stages.get(n)!));
}

describe('Dockerfile (its steps run in clean directories)', () => {
  let runtime: Stage;
  let db: TestDatabase;
  const app = () => path.join(runtime.root, 'app');
  const node = (args: string[]) =>
    spawnSync(process.execPath, [path.join(app(), 'bin/agent-bom.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, ...runtime.env },
    });

  let built: Stage[];
  beforeAll(async () => {
    built = await build();
    runtime = built.at(-1)!;
    db = await createTestDatabase();
  }, 600_000);
  afterAll(async () => {
    await db?.drop();
    rmSync(base, { recursive: true, force: true });
  });

  it('is multi-stage, on a base pinned by digest, and runs as a non-root user', () => {
    expect(built.map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24[\w.-]*@sha256:\S+$/m);
    expect(instructions.filter((i) => i.op === 'FROM').every((i) => i.rest.startsWith('${NODE_IMAGE}'))).toBe(
      true,
    );
    expect(runtime.user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(runtime.entrypoint).toEqual(['node', '/app/bin/agent-bom.js']);
  });

  it('the runtime stage holds no dev dependency, no sources and no tests', () => {
    const lock = JSON.parse(readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([key, meta]) => key.startsWith('node_modules/') && meta.dev)
      .map(([key]) => key)
      .filter((key) => existsSync(path.join(app(), key)));
    expect(devOnly).toEqual([]);
    // typescript, ts-node and @swc/core stay: optional peers of production dependencies (@nestjs/swagger, typeorm),
    // marked devOptional (not dev) in the lockfile, so `npm ci --omit=dev` installs them.
    for (const dev of ['jest', 'eslint', 'prettier', '@nestjs/cli', '@modelcontextprotocol/inspector'])
      expect(existsSync(path.join(app(), 'node_modules', dev))).toBe(false);
    expect(readdirSync(app()).sort()).toEqual(['bin', 'dist', 'node_modules', 'package.json']);
    expect(existsSync(path.join(app(), 'dist/cli/main.js'))).toBe(true);
    expect(statSync(path.join(runtime.root, 'usr/local/bin/install-agent-bom')).mode & 0o111).toBeTruthy();
  });

  it.each([
    ['api'],
    ['migrate'],
    ['gateway', 'serve'],
    ['proxy'],
    ['scan'],
    ['agents'],
    ['policy', 'validate'],
  ])('the image serves `agent-bom %s`', (...command) => {
    const result = node([...command, '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Usage: agent-bom ${command.join(' ')}`);
  });

  it('ENTRYPOINT + CMD start the control plane, ready on PostgreSQL, with production dependencies only', async () => {
    const [program, script] = runtime.entrypoint!;
    expect(program).toBe('node');
    const cmd = runtime.cmd!.map((a, i, all) => (all[i - 1] === '--host' ? '127.0.0.1' : a));
    expect(cmd[0]).toBe('api');
    const home = mkdtempSync(path.join(base, 'home-'));
    const server = await startServer(
      [...cmd.slice(1), '--port', '0'],
      {
        PATH: process.env.PATH,
        ...runtime.env,
        HOME: home,
        AGENT_BOM_DATA_DIR: home,
        DATABASE_URL: db.url,
        AGENT_BOM_SIGNING_KEY_FILE: process.env.AGENT_BOM_TEST_SIGNING_KEY_FILE!,
      },
      120_000,
      path.join(runtime.root, script!),
    );
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it("the proxy example's installer copies a runtime a workload can start `agent-bom proxy` from", () => {
    const target = path.join(base, 'opt-agent-bom');
    const install = spawnSync(path.join(runtime.root, 'usr/local/bin/install-agent-bom'), [target, app()], {
      encoding: 'utf8',
    });
    expect(install.status).toBe(0);
    const result = spawnSync(path.join(target, 'bin/agent-bom'), ['proxy', '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: agent-bom proxy');
  });
});
