import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MIGRATIONS } from '../../migrations/index.js';
import { createDataSource, migrateWithLock, pendingMigrations } from '../../src/core/database/data-source.js';
import { Tx } from '../../src/core/database/transactions.js';
import { AuditRepository } from '../../src/modules/audit/audit.repository.js';
import { canonicalJson, entryHash, GENESIS_HASH } from '../../src/modules/audit/chain.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const ALL = MIGRATIONS.map((m) => new m().name);

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
  });
  afterAll(() => db.drop());

  it('are named <Name><13-digit timestamp> and listed oldest first', () => {
    const stamps = ALL.map((name) => Number(/(\d{13})$/.exec(name)?.[1]));
    expect(stamps.every(Number.isFinite)).toBe(true);
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);
  });

  it('three replicas migrating one empty database at once apply each migration exactly once', async () => {
    const replicas = [createDataSource(db.url, 2), createDataSource(db.url, 2), createDataSource(db.url, 2)];
    await Promise.all(replicas.map((r) => r.initialize()));
    try {
      const applied = await Promise.all(replicas.map((r) => migrateWithLock(r)));
      expect(applied.flat()).toEqual(ALL);
      const rows = (await db.dataSource.query('SELECT name FROM schema_migrations ORDER BY id')) as {
        name: string;
      }[];
      expect(rows.map((r) => r.name)).toEqual(ALL);
      expect(await pendingMigrations(db.dataSource)).toEqual([]);
    } finally {
      await Promise.all(replicas.map((r) => r.destroy()));
    }
  });

  it('every migration reverts cleanly, newest first, down to an empty schema, and re-applies', async () => {
    for (let i = ALL.length - 1; i >= 0; i--) {
      await db.dataSource.undoLastMigration({ transaction: 'each' });
      expect(await pendingMigrations(db.dataSource)).toEqual(ALL.slice(i));
    }
    const tables = (await db.dataSource.query(
      `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'`,
    )) as unknown[];
    expect(tables).toEqual([]);
    expect(await migrateWithLock(db.dataSource)).toEqual(ALL);
  });
});

describe('migration RoutableUpstreamNames', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('renames the unroutable names discovery handed out, keeps routable ones, and moves their approvals', async () => {
    // Back to just before it (later migrations are undone first), seed the old names, then migrate forward.
    const at = ALL.indexOf('RoutableUpstreamNames1764300000000');
    expect(at).toBeGreaterThan(0);
    for (let i = ALL.length; i > at; i--) await db.dataSource.undoLastMigration({ transaction: 'each' });
    const q = (sql: string, params: unknown[] = []) => db.dataSource.query(sql, params);
    await q(`INSERT INTO tenants (id, name) VALUES ('t1', 't1')`);
    const names: Array<[string, string, string, number]> = [
      ['My-Server', 'https://a.example/mcp', 'My-Server', 0],
      ['My Server', 'https://b.example/mcp', 'My Server', 0],
      ['My Server', 'https://c.example/mcp', 'My Server-1', 1],
      ['jira', 'https://d.example/mcp', 'jira', 0],
    ];
    for (const [i, [base, url, assigned, ordinal]] of names.entries()) {
      await q(
        `INSERT INTO upstream_names (tenant_id, base_name, url, assigned_name, ordinal, first_seen_at)
         VALUES ('t1', $1, $2, $3, $4, now() + $5 * interval '1 second')`,
        [base, url, assigned, ordinal, i],
      );
    }
    await q(
      `INSERT INTO upstream_approvals (tenant_id, name, state, decided_by, decided_at)
       VALUES ('t1', 'My Server-1', 'approved', 'key:admin', now())`,
    );
    expect(await migrateWithLock(db.dataSource)).toEqual(ALL.slice(at));
    const rows = (await q(`SELECT url, assigned_name, ordinal FROM upstream_names ORDER BY url`)) as Array<{
      url: string;
      assigned_name: string;
      ordinal: number;
    }>;
    expect(rows.map((r) => [r.url.slice(8, 9), r.assigned_name, r.ordinal])).toEqual([
      ['a', 'My-Server', 0],
      ['b', 'My-Server-1', 1],
      ['c', 'My-Server-2', 2],
      ['d', 'jira', 0],
    ]);
    expect(await q(`SELECT name, state FROM upstream_approvals`)).toEqual([
      { name: 'My-Server-2', state: 'approved' },
    ]);
  });
});

describe('migration ScanUpstreams', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it("fills scan_upstreams from each source's newest scan and names the pairs not yet named, as a sync would", async () => {
    const at = ALL.indexOf('ScanUpstreams1764400200000');
    expect(at).toBeGreaterThan(0);
    for (let i = ALL.length; i > at; i--) await db.dataSource.undoLastMigration({ transaction: 'each' });
    const q = (sql: string, params: unknown[] = []) => db.dataSource.query(sql, params);
    await q(`INSERT INTO tenants (id, name) VALUES ('t1', 't1'), ('t2', 't2')`);
    // A fleet sync named jira at A before any scan.
    await q(
      `INSERT INTO upstream_names (tenant_id, base_name, url, assigned_name, ordinal, first_seen_at, transport)
       VALUES ('t1', 'jira', 'https://a.example/mcp', 'jira', 0, now() - interval '1 day', 'sse')`,
    );
    const server = (name: string, url?: string, transport = 'https') =>
      url
        ? { name, transport, url, auth_mode: 'none', config_path: '/c' }
        : { name, transport: 'stdio', command: 'x', auth_mode: 'none', config_path: '/c' };
    const scan = async (
      tenant: string,
      source: string,
      kind: string,
      minutesAgo: number,
      hostname: string | null,
      servers: object[],
    ) =>
      q(
        `INSERT INTO scans (tenant_id, id, kind, status, source_id, triggered_by, created_at, summary, report)
         VALUES ($1, gen_random_uuid(), $2, 'done', $3, 'test', now() - $4 * interval '1 minute', '{}', $5)`,
        [
          tenant,
          kind,
          source,
          minutesAgo,
          JSON.stringify({ endpoint: hostname ? { hostname } : {}, agents: [{ name: 'cursor', servers }] }),
        ],
      );
    await scan('t1', 'ci-1', 'pushed', 30, 'ci-old', [server('wiki', 'https://w.example/mcp')]);
    await scan('t1', 'ci-1', 'pushed', 10, 'ci-runner', [
      server('jira', 'https://a.example/mcp'),
      server('jira', 'https://b.example/mcp', 'sse'),
      server('My Server', 'https://c.example/mcp'),
      server('local'),
      server('bad', '[invalid url]'),
    ]);
    await scan('t1', 'control-plane:mac-1', 'job', 5, 'mac', [server('internal', 'https://i.example/mcp')]);
    await scan('t2', 'other', 'pushed', 5, null, [server('jira', 'https://b.example/mcp')]);

    expect(await migrateWithLock(db.dataSource)).toEqual(ALL.slice(at));
    expect(
      await q(
        `SELECT tenant_id, source_id, name, url, transport, agent FROM scan_upstreams ORDER BY tenant_id, url`,
      ),
    ).toEqual([
      {
        tenant_id: 't1',
        source_id: 'ci-1',
        name: 'jira',
        url: 'https://a.example/mcp',
        transport: 'https',
        agent: 'ci-runner',
      },
      {
        tenant_id: 't1',
        source_id: 'ci-1',
        name: 'jira',
        url: 'https://b.example/mcp',
        transport: 'sse',
        agent: 'ci-runner',
      },
      {
        tenant_id: 't1',
        source_id: 'ci-1',
        name: 'My Server',
        url: 'https://c.example/mcp',
        transport: 'https',
        agent: 'ci-runner',
      },
      {
        tenant_id: 't2',
        source_id: 'other',
        name: 'jira',
        url: 'https://b.example/mcp',
        transport: 'https',
        agent: 'other',
      },
    ]);
    expect(
      await q(`SELECT tenant_id, url, assigned_name, transport FROM upstream_names ORDER BY tenant_id, url`),
    ).toEqual([
      { tenant_id: 't1', url: 'https://a.example/mcp', assigned_name: 'jira', transport: 'sse' },
      { tenant_id: 't1', url: 'https://b.example/mcp', assigned_name: 'jira-1', transport: 'sse' },
      { tenant_id: 't1', url: 'https://c.example/mcp', assigned_name: 'My-Server', transport: 'https' },
      { tenant_id: 't2', url: 'https://b.example/mcp', assigned_name: 'jira', transport: 'https' },
    ]);
  });
});

describe('migration AuditChainAggregate', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('a chain written before it continues after it: the statement chains from the stored head, verifiably', async () => {
    const at = ALL.indexOf('AuditChainAggregate1764400600000');
    expect(at).toBeGreaterThan(0);
    for (let i = ALL.length; i > at; i--) await db.dataSource.undoLastMigration({ transaction: 'each' });
    const q = (sql: string, params: unknown[] = []) => db.dataSource.query(sql, params);
    const tenant = 'acme';
    const event = (id: string) => ({
      event_id: id,
      type: 'tool_call.denied',
      timestamp: '2026-01-01T00:00:00.000Z',
      tool: 'é 🦊 "x"',
    });
    // Three entries as the statement before this migration stored them, and the head after them.
    await q(`INSERT INTO tenants (id, name) VALUES ($1, $1)`, [tenant]);
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= 3; seq++) {
      const hash = entryHash(tenant, seq, prev, event(`old-${seq}`));
      await q(
        `INSERT INTO audit_entries (tenant_id, seq, prev_hash, hash, event) VALUES ($1, $2, $3, $4, $5)`,
        [tenant, seq, prev, hash, event(`old-${seq}`)],
      );
      prev = hash;
    }
    await q(`INSERT INTO audit_heads (tenant_id, seq, hash) VALUES ($1, 3, $2)`, [tenant, prev]);

    expect(await migrateWithLock(db.dataSource)).toEqual(ALL.slice(at));
    const inputs = ['new-4', 'new-5'].map((id) => ({
      writer: '',
      eventId: id,
      canonical: canonicalJson(event(id)),
    }));
    const done = await new AuditRepository(db.dataSource).appendChained(tenant, inputs, new Date(), {
      entries: 1_000_000,
      seconds: 1_000_000,
    });
    expect(done?.head).toMatchObject({ seq: 3, hash: prev });
    const rows = (await q(
      `SELECT seq::int, prev_hash, hash, event FROM audit_entries WHERE tenant_id = $1 ORDER BY seq`,
      [tenant],
    )) as Array<{ seq: number; prev_hash: string; hash: string; event: unknown }>;
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    let link = GENESIS_HASH;
    for (const row of rows) {
      expect(row.prev_hash).toBe(link);
      expect(row.hash).toBe(entryHash(tenant, row.seq, link, row.event));
      link = row.hash;
    }
    expect(done?.hashes).toEqual([rows[3].hash, rows[4].hash]);
    expect(await q(`SELECT seq::int, hash FROM audit_heads WHERE tenant_id = $1`, [tenant])).toEqual([
      { seq: 5, hash: link },
    ]);
  });
});

describe('migration AuditDropEventIdIndex', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  const indexes = async (): Promise<string[]> =>
    (
      (await db.dataSource.query(
        `SELECT indexname FROM pg_indexes WHERE tablename = 'audit_entries' ORDER BY indexname`,
      )) as Array<{ indexname: string }>
    ).map((r) => r.indexname);

  it('drops the (tenant, event id) index; duplicates are still found and refused by (tenant, writer, event id); down restores it', async () => {
    const at = ALL.indexOf('AuditDropEventIdIndex1764400800000');
    expect(at).toBeGreaterThan(0);
    for (let i = ALL.length; i > at; i--) await db.dataSource.undoLastMigration({ transaction: 'each' });
    expect(await indexes()).toContain('audit_entries_event_id_idx');
    const q = (sql: string, params: unknown[] = []) => db.dataSource.query(sql, params);
    const repository = new AuditRepository(db.dataSource);
    const tenant = 'acme';
    const event = (id: string, writer: string) => ({
      event_id: id,
      type: 'tool_call.denied',
      timestamp: '2026-01-01T00:00:00.000Z',
      actor: { key_id: writer },
    });
    const input = (id: string, writer: string) => ({
      writer,
      eventId: id,
      canonical: canonicalJson(event(id, writer)),
    });
    const guard = { entries: 1_000_000, seconds: 1_000_000 };
    await q(`INSERT INTO tenants (id, name) VALUES ($1, $1)`, [tenant]);
    await q(`INSERT INTO audit_heads (tenant_id, seq, hash) VALUES ($1, 0, $2)`, [tenant, GENESIS_HASH]);
    expect(
      await repository.appendChained(tenant, [input('e-1', 'k1'), input('e-2', 'k1')], new Date(), guard),
    ).not.toBeNull();

    expect(await migrateWithLock(db.dataSource)).toEqual(ALL.slice(at));
    const after = await indexes();
    expect(after).not.toContain('audit_entries_event_id_idx');
    expect(after).toContain('audit_entries_writer_event_id_idx');
    // A stored (writer, id) makes the one-statement append give up, writing nothing…
    expect(
      await repository.appendChained(tenant, [input('e-3', 'k1'), input('e-2', 'k1')], new Date(), guard),
    ).toBeNull();
    // …and the locked path finds it and skips it; the same id from another writer is a new entry.
    const locked = await db.dataSource.transaction(async (manager) => {
      const tx = new Tx(manager);
      await repository.lockHead(tenant, tx);
      return repository.appendChained(
        tenant,
        [input('e-2', 'k1'), input('e-2', 'k2'), input('e-3', 'k1')],
        new Date(),
        null,
        tx,
      );
    });
    expect(locked?.head.seq).toBe(2);
    expect([...locked!.stored.keys()]).toEqual([0]);
    expect(locked?.hashes).toHaveLength(2);
    const rows = (await q(
      `SELECT seq::int, prev_hash, hash, event FROM audit_entries WHERE tenant_id = $1 ORDER BY seq`,
      [tenant],
    )) as Array<{ seq: number; prev_hash: string; hash: string; event: unknown }>;
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    let link = GENESIS_HASH;
    for (const row of rows) {
      expect(row.prev_hash).toBe(link);
      expect(row.hash).toBe(entryHash(tenant, row.seq, link, row.event));
      link = row.hash;
    }

    // Down through it (and the migrations after it).
    for (let i = ALL.length; i > at; i--) await db.dataSource.undoLastMigration({ transaction: 'each' });
    expect(await indexes()).toEqual(after.concat('audit_entries_event_id_idx').sort());
    expect(await q(`SELECT count(*)::int AS n FROM audit_entries WHERE tenant_id = $1`, [tenant])).toEqual([
      { n: 4 },
    ]);
  });
});
