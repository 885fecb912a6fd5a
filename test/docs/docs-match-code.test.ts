import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { CONTROLLER_WATERMARK } from '@nestjs/common/constants.js';
import { Command } from 'commander';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROLE_PERMISSIONS, ROLES } from '../../libs/contracts/src/index.js';
import { codesOf, reasonOf, WIRE_ERRORS, type WireSurface } from '../../libs/runtime/src/index.js';
import { controllerRoutes, type RouteInfo } from '../../src/core/http/routes.js';
import {
  codeOf,
  commandOfCell,
  duplicateRows,
  envReads,
  leafCommands,
  linkedPages,
  routesOfCell,
  sourceFiles,
  tableRows,
  type CliCommand,
} from '../helpers/docs.js';

/**
 * The reference pages list exactly what the code declares, read from the code itself: the environment variables
 * (docs/configuration.md), the control plane's routes and their permissions (docs/api.md), the role matrix
 * (docs/auth.md), the CLI's commands and flags (docs/cli.md), the migrations (docs/database.md), the workspace
 * packages (docs/architecture.md) and the JSON-RPC error codes of the proxy and the gateway (docs/proxy.md,
 * docs/gateway.md, from the one table in libs/runtime). No database and no process: controllers are imported for their decorators, the
 * CLI's commander program is built by `main` and caught before it parses.
 */

const doc = (name: string) => readFileSync(path.join('docs', name), 'utf8');
const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

/**
 * Variables of the platform the code reads for defaults (cache and config dirs, Windows command lookup) and
 * Node's own that it defers to (the compile cache: docs/proxy.md#start-up-cost).
 */
const PLATFORM_ENV = [
  'APPDATA',
  'HOME',
  'LOCALAPPDATA',
  'NODE_COMPILE_CACHE',
  'NODE_DISABLE_COMPILE_CACHE',
  'PATH',
  'PATHEXT',
  'XDG_CACHE_HOME',
  'XDG_CONFIG_HOME',
];

describe('docs/configuration.md', () => {
  const read = envReads(sourceFiles('src', 'apps', 'cli', 'libs'));
  for (const name of PLATFORM_ENV) read.delete(name);
  const page = doc('configuration.md');
  const documented = new Set(
    [...page.matchAll(/`(AGENT_BOM_[A-Z0-9_]*[A-Z0-9]|DATABASE_URL|HOST|PORT|LOG_LEVEL)(?:=[^`]*)?`/g)].map(
      (m) => m[1]!,
    ),
  );

  it('reads variables through the patterns the extraction knows (it finds the control plane, CLI and apps)', () => {
    for (const name of ['PORT', 'AGENT_BOM_SCAN_WORKERS', 'AGENT_BOM_OIDC_ISSUER', 'AGENT_BOM_PUSH_URL'])
      expect(read).toContain(name);
    for (const name of ['AGENT_BOM_GATEWAY_SESSION_SECRET', 'AGENT_BOM_PROXY_AUDIT_BACKOFF_MAX_MS'])
      expect(read).toContain(name);
  });

  it('documents every variable the code reads', () => {
    expect(sorted(read).filter((name) => !documented.has(name))).toEqual([]);
  });

  it('documents no variable that nothing reads', () => {
    expect(sorted(documented).filter((name) => !read.has(name))).toEqual([]);
  });
});

describe('docs/api.md', () => {
  let routes: RouteInfo[];
  const rows = tableRows(doc('api.md')).filter((cells) => routesOfCell(cells[0]!).length > 0);
  const documented = new Map<string, string>(); // route → permission cell
  for (const [route, permission] of rows)
    for (const r of routesOfCell(route!)) documented.set(r, permission!);

  beforeAll(async () => {
    routes = [];
    for (const file of sourceFiles('src').filter((f) => codeOf(f).includes('@Controller('))) {
      const exports = (await import(path.resolve(file))) as Record<string, unknown>;
      for (const value of Object.values(exports)) {
        if (typeof value === 'function' && Reflect.getMetadata(CONTROLLER_WATERMARK, value))
          routes.push(...controllerRoutes(value));
      }
    }
  });

  it('finds the controllers', () => {
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining(['GET /healthz', 'POST /v1/fleet/sync', 'GET /scim/v2/Users/:id']),
    );
  });

  it('lists every route with its permission', () => {
    const problems = routes.flatMap((r) => {
      const cell = documented.get(`${r.method} ${r.path}`);
      if (cell === undefined) return [`${r.method} ${r.path}: not listed`];
      const expected = r.isPublic ? 'public' : `\`${r.permission}\``;
      return cell.startsWith(expected) ? [] : [`${r.method} ${r.path}: ${cell}, the code says ${expected}`];
    });
    expect(problems).toEqual([]);
  });

  it('lists no route that does not exist', () => {
    const real = new Set(routes.map((r) => `${r.method} ${r.path}`));
    expect(sorted(documented.keys()).filter((r) => !real.has(r))).toEqual([]);
  });

  it('lists each route once', () => {
    expect(duplicateRows(doc('api.md'))).toEqual([]);
  });
});

describe('docs/auth.md', () => {
  /** `` `analyst` + `a`, `b` `` → the analyst row's permissions and `a`, `b`: a roles-table cell, expanded. */
  const matrix = new Map<string, string[]>();
  const rows = tableRows(doc('auth.md')).filter(([role]) =>
    (ROLES as readonly string[]).includes(role!.replace(/`/g, '')),
  );
  for (const [role, , cell] of [...rows].reverse()) {
    const [first, ...rest] = [...cell!.matchAll(/`([a-z:-]+)`/g)].map((m) => m[1]!);
    const inherited = matrix.get(first!);
    matrix.set(role!.replace(/`/g, ''), sorted(inherited ? [...inherited, ...rest] : [first!, ...rest]));
  }

  it('gives every role exactly its permissions in the roles table', () => {
    expect(Object.fromEntries(matrix)).toEqual(
      Object.fromEntries(ROLES.map((role) => [role, sorted(ROLE_PERMISSIONS[role])])),
    );
  });

  it('lists each role once', () => {
    expect(duplicateRows(doc('auth.md'))).toEqual([]);
  });
});

describe('docs/cli.md', () => {
  let commands: CliCommand[];
  const page = doc('cli.md');
  const rows = tableRows(page).flatMap(([first, ...rest]) => {
    const command = commandOfCell(first!);
    return command ? [{ ...command, pages: rest.flatMap(linkedPages) }] : [];
  });

  beforeAll(async () => {
    // `main` builds the whole program, then parses; the parse is replaced by a no-op so nothing runs.
    const parse = jest.spyOn(Command.prototype, 'parseAsync').mockImplementation(function (this: Command) {
      return Promise.resolve(this);
    });
    const { main } = await import('../../cli/main.js');
    await main(['node', 'agent-bom']);
    commands = leafCommands(parse.mock.contexts[0] as Command);
  });
  afterAll(() => {
    jest.restoreAllMocks();
  });

  it('builds the real program', () => {
    expect(commands.map((c) => c.path)).toEqual(
      expect.arrayContaining(['api', 'keys create', 'gateway serve']),
    );
    expect(commands.find((c) => c.path === 'keys create')?.flags).toContain('--tenant');
  });

  it('has a row for every command, with each flag there or on the page the row links', () => {
    const problems = commands.flatMap((command) => {
      const row = rows.find((r) => r.path === command.path);
      if (!row) return [`agent-bom ${command.path}: no row`];
      const elsewhere = row.pages.map((file) => readFileSync(file, 'utf8')).join('\n');
      return command.flags
        .filter((flag) => !row.flags.includes(flag) && !new RegExp(`${flag}(?![a-z0-9-])`).test(elsewhere))
        .map((flag) => `agent-bom ${command.path}: ${flag} documented nowhere`);
    });
    expect(problems).toEqual([]);
  });

  it('documents no command or flag that is gone', () => {
    const problems = rows.flatMap((row) => {
      const command = commands.find((c) => c.path === row.path);
      if (!command) return [`agent-bom ${row.path}: no such command`];
      return row.flags
        .filter((flag) => !command.flags.includes(flag))
        .map((flag) => `agent-bom ${row.path}: no flag ${flag}`);
    });
    expect(problems).toEqual([]);
  });

  it('lists each command once', () => {
    expect(duplicateRows(page)).toEqual([]);
  });
});

describe('docs/database.md', () => {
  const page = doc('database.md');
  const migrations = readdirSync('migrations')
    .filter((file) => /^\d{13}-\w+\.ts$/.test(file))
    .map((file) => file.replace(/\.ts$/, ''));

  it('names every migration', () => {
    expect(migrations.length).toBeGreaterThan(0);
    expect(migrations.filter((name) => !page.includes(`\`${name}\``))).toEqual([]);
  });

  it('names no migration that does not exist', () => {
    expect(
      sorted([...page.matchAll(/\b\d{13}-\w+/g)].map((m) => m[0])).filter((n) => !migrations.includes(n)),
    ).toEqual([]);
  });
});

describe('docs/architecture.md', () => {
  const page = doc('architecture.md');
  const packages = ['apps', 'libs'].flatMap((dir) =>
    readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `${dir}/${entry.name}`),
  );
  const described = tableRows(page).flatMap(([first]) =>
    [...first!.matchAll(/`((?:apps|libs)\/[a-z-]+)`/g)].map((m) => m[1]!),
  );

  it('describes every package of apps/ and libs/ in the layout table', () => {
    expect(packages.length).toBeGreaterThan(0);
    expect(packages.filter((p) => !described.includes(p))).toEqual([]);
  });

  it('describes no package that does not exist', () => {
    expect(described.filter((p) => !existsSync(p))).toEqual([]);
  });

  it('has one row per path', () => {
    expect(duplicateRows(page)).toEqual([]);
  });
});

/** The rows of the table under a page's "Error codes" heading whose first cell is a JSON-RPC code. */
function errorCodeRows(page: string): { code: number; cells: string[] }[] {
  const section = /^#+ Error codes\n([\s\S]*?)(?=^#+ )/m.exec(page)?.[1] ?? '';
  return tableRows(section)
    .map((cells) => ({ code: Number(/^`?(-\d+)`?$/.exec(cells[0]!)?.[1]), cells }))
    .filter((row) => Number.isInteger(row.code));
}

describe.each<[string, WireSurface]>([
  ['proxy.md', 'proxy'],
  ['gateway.md', 'gateway'],
])('docs/%s error codes (WIRE_ERRORS in libs/runtime)', (name, surface) => {
  const rows = errorCodeRows(doc(name));
  const documented = rows.map((row) => row.code);

  it('lists every code the surface answers with, each once, and no other', () => {
    expect(codesOf(surface).length).toBeGreaterThan(8);
    expect([...documented].sort()).toEqual([...codesOf(surface)].sort());
  });

  it('names each code by the reason_code word of the table', () => {
    for (const { code, cells } of rows) {
      const word = cells.map((cell) => /^`([a-z_]+)`$/.exec(cell)?.[1]).find((w) => w && w in WIRE_ERRORS);
      expect(`${code} ${word}`).toBe(`${code} ${reasonOf(code)}`);
    }
  });
});
