import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { DataSource } from 'typeorm';
import type { RuntimeAuditEvent } from '../../libs/contracts/src/index.js';
import { createApp } from '../../src/app.js';
import { systemPrincipal, type Principal } from '../../src/core/auth/principal.js';
import { loadConfig } from '../../src/core/config/config.js';
import { createDataSource, migrateWithLock } from '../../src/core/database/data-source.js';
import { createLogger } from '../../src/core/logging/logger.js';
import { AuditService } from '../../src/modules/audit/audit.service.js';
import type { IngestAuditDto } from '../../src/modules/audit/dto/ingest.dto.js';
import { ApiKeysService } from '../../src/modules/auth/api-keys.service.js';
import { TenantsService } from '../../src/modules/tenants/tenants.service.js';
import { scratchDatabase } from '../support/control-plane.js';
import { loadAverage } from '../support/proc.js';
import { ratio, type Measurement, type Role, type Scenario } from '../support/result.js';

export interface Rate {
  label: string;
  events: number;
  seconds: number;
  eventsPerSecond: number;
}

export interface ExportFigures {
  entries: number;
  eventsPerSecond: number;
  /** Peak live heap (after a full GC) above the pre-export baseline while the export streamed, MiB. */
  peakHeapMiB: number;
}

export interface AuditFigures {
  concurrency: number;
  /** `serial`: the same plain INSERTs one at a time, as a tenant's chain must append (a reference, not the limit). */
  ingest: Array<{ chained: Rate; baseline: Rate; serial?: Rate }>;
  exports: Array<{ chained: ExportFigures; baseline: ExportFigures }>;
}

/**
 * Durable ingest through the real AuditService (head lock, duplicate check, hashing, checkpoints, commit) and
 * through HTTP (plus auth and validation), beside plain INSERTs of the same rows into the same table with the
 * same batch size and concurrency; then export throughput and memory for two chain lengths beside a plain keyset
 * read. One process, one run. Uses a throw-away database (on DATABASE_URL's server when set, else embedded).
 */
export async function run(options: { seconds?: number; concurrency?: number } = {}): Promise<AuditFigures> {
  const seconds = options.seconds ?? 5;
  const concurrency = options.concurrency ?? 4;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-bench-audit-'));
  const scratch = await scratchDatabase(dataDir);
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: scratch.url,
    AGENT_BOM_DATA_DIR: dataDir,
    LOG_LEVEL: 'error',
  });
  const dataSource = createDataSource(scratch.url, Math.max(10, concurrency * 2 + 2));
  await dataSource.initialize();
  try {
    await migrateWithLock(dataSource);
    const app = await createApp(config, dataSource, createLogger('error'));
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const tenant = `bench-${Date.now().toString(36)}`;
      await app.get(TenantsService).create(systemPrincipal(tenant, 'bench'), { id: tenant });
      // Writers and readers hold different roles since the hardening (human roles lost audit:write).
      const keys = app.get(ApiKeysService);
      const writer = await keys.create(systemPrincipal(tenant, 'bench'), { role: 'proxy' });
      const reader = await keys.create(systemPrincipal(tenant, 'bench'), { role: 'analyst' });
      const principal: Principal = {
        tenantId: tenant,
        role: 'proxy',
        subject: 'key:bench',
        authMethod: 'api_key',
        keyId: randomUUID(),
      };
      const address = app.getHttpServer().address();
      const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const audit = app.get(AuditService);
      const baseline = new BaselineWriter(dataSource, `${tenant}-baseline`);

      const viaService = (size: number) => () => audit.ingest(principal, batch(size)).then((r) => r.accepted);
      const viaHttp = (size: number) => async () => {
        const res = await fetch(`${base}/v1/proxy/audit`, {
          method: 'POST',
          headers: { authorization: `Bearer ${writer.raw_key}`, 'content-type': 'application/json' },
          body: JSON.stringify(batch(size)),
        });
        if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
        return ((await res.json()) as { accepted: number }).accepted;
      };
      const plain = (size: number) => () => baseline.insert(size);

      await paired(['warm-up', viaService(100)], ['warm-up', plain(100)], Math.min(2, seconds), concurrency);
      const ingest = [
        await paired(
          ['service, batches of 100', viaService(100)],
          ['plain INSERT, batches of 100', plain(100)],
          seconds,
          concurrency,
          ['plain INSERT, batches of 100, one at a time', plain(100)],
        ),
        await paired(
          ['service, batches of 1', viaService(1)],
          ['plain INSERT, batches of 1', plain(1)],
          seconds,
          concurrency,
        ),
        await paired(
          ['HTTP, batches of 100', viaHttp(100)],
          ['plain INSERT, batches of 100', plain(100)],
          seconds,
          concurrency,
        ),
      ];

      const total = Number(
        (await dataSource.query('SELECT max(seq) AS n FROM audit_entries WHERE tenant_id = $1', [tenant]))[0]
          .n,
      );
      const exports = [];
      for (const entries of [Math.floor(total / 4), total]) {
        exports.push({
          chained: await measureExport(`${base}/v1/audit/export?to_seq=${entries}`, reader.raw_key, entries),
          baseline: await measurePlainRead(dataSource, tenant, entries),
        });
      }
      return { concurrency, ingest, exports };
    } finally {
      await app.close();
    }
  } finally {
    await dataSource.destroy();
    await scratch.drop();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

let counter = 0;
const run_id = randomBytes(4).toString('hex');

/** A realistic denied tool call, ~600 bytes as stored. */
function event(): RuntimeAuditEvent {
  return {
    event_id: `${run_id}-${counter++}`,
    type: 'tool_call.denied',
    timestamp: new Date().toISOString(),
    agent: 'claude-desktop',
    client: 'claude-desktop',
    server: 'filesystem',
    tool: 'write_file',
    method: 'tools/call',
    rule_id: 'no-writes-outside-repo',
    reason: 'path /etc/hosts is outside the allowed roots',
    trace_id: randomBytes(16).toString('hex'),
    span_id: randomBytes(8).toString('hex'),
    request_id: String(counter),
    argument_fingerprint: `sha256:${randomBytes(32).toString('hex')}`,
  };
}

function batch(size: number): IngestAuditDto {
  return {
    source_id: 'bench:proxy',
    session_id: 'bench',
    events: Array.from({ length: size }, event),
  } as IngestAuditDto;
}

/** The baseline: the same rows (same event shape, same indexes) inserted with no lock, no lookup, no chain. */
class BaselineWriter {
  private seq = 0;
  constructor(
    private readonly dataSource: DataSource,
    private readonly tenantId: string,
  ) {}

  async insert(size: number): Promise<number> {
    const seqs = Array.from({ length: size }, () => ++this.seq);
    const now = new Date().toISOString();
    const events = seqs.map(() =>
      JSON.stringify({
        ...event(),
        received_at: now,
        origin: 'runtime',
        decision: 'deny',
        source_id: 'bench:proxy',
      }),
    );
    const hash = '0'.repeat(64);
    await this.dataSource.query(
      `INSERT INTO audit_entries (tenant_id, seq, prev_hash, hash, event)
       SELECT $1, s, $2, $2, e FROM unnest($3::bigint[], $4::jsonb[]) AS t(s, e)`,
      [this.tenantId, hash, seqs, events],
    );
    return size;
  }
}

type Work = () => Promise<number>;

/**
 * Runs `chained` and `baseline` (and `serial`, with one writer) alternately in half-second slices until each has
 * had `seconds`, so all see the same background load (the benchmark machine may be shared); each slice keeps
 * `concurrency` writers busy.
 */
async function paired(
  [chainedLabel, chained]: [string, Work],
  [baselineLabel, baseline]: [string, Work],
  seconds: number,
  concurrency: number,
  serial?: [string, Work],
): Promise<{ chained: Rate; baseline: Rate; serial?: Rate }> {
  const totals = {
    chained: { events: 0, ns: 0n },
    baseline: { events: 0, ns: 0n },
    serial: { events: 0, ns: 0n },
  };
  const candidates: Array<[keyof typeof totals, Work, number]> = [
    ['chained', chained, concurrency],
    ['baseline', baseline, concurrency],
    ...(serial ? [['serial', serial[1], 1] as [keyof typeof totals, Work, number]] : []),
  ];
  for (let slice = 0; slice < seconds * 2; slice++) {
    for (const [key, work, writers] of candidates) {
      const started = process.hrtime.bigint();
      const deadline = Date.now() + 500;
      await Promise.all(
        Array.from({ length: writers }, async () => {
          while (Date.now() < deadline) {
            // Not `events += await work()`: that reads the total before the await, and concurrent writers
            // would then overwrite each other's counts.
            const events = await work();
            totals[key].events += events;
          }
        }),
      );
      totals[key].ns += process.hrtime.bigint() - started;
    }
  }
  const rate = (label: string, { events, ns }: { events: number; ns: bigint }): Rate => {
    const elapsed = Number(ns) / 1e9;
    return { label, events, seconds: elapsed, eventsPerSecond: events / elapsed };
  };
  return {
    chained: rate(chainedLabel, totals.chained),
    baseline: rate(baselineLabel, totals.baseline),
    ...(serial ? { serial: rate(serial[0], totals.serial) } : {}),
  };
}

/** Streams an export over HTTP, counting lines, while sampling this process's heap. */
async function measureExport(url: string, key: string, entries: number): Promise<ExportFigures> {
  return withHeapSampling(async () => {
    const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
    if (res.status !== 200 || !res.body) throw new Error(`export answered ${res.status}`);
    let lines = 0;
    let last = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body) {
      const text = last + decoder.decode(chunk as Uint8Array, { stream: true });
      const parts = text.split('\n');
      last = parts.pop()!;
      lines += parts.length;
      if (parts.length && parts[parts.length - 1].includes('"kind":"end"'))
        throw new Error('export did not verify');
    }
    if (lines < entries) throw new Error(`export had ${lines} lines for ${entries} entries`);
    return entries;
  });
}

/** Baseline: keyset pages of the same rows, serialised as JSON lines into nothing. No verification. */
async function measurePlainRead(
  dataSource: DataSource,
  tenantId: string,
  entries: number,
): Promise<ExportFigures> {
  return withHeapSampling(async () => {
    let after = 0;
    let bytes = 0;
    for (;;) {
      const rows: Array<{ seq: string }> = await dataSource.query(
        `SELECT tenant_id, seq, prev_hash, hash, event FROM audit_entries
         WHERE tenant_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT 500`,
        [tenantId, after, entries],
      );
      if (!rows.length) break;
      bytes += rows.map((r) => JSON.stringify({ kind: 'entry', ...r }) + '\n').join('').length;
      after = Number(rows[rows.length - 1].seq);
    }
    if (!bytes) throw new Error('nothing read');
    return entries;
  });
}

const gc = (() => {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/**
 * Runs `work` while sampling the live heap: every 100 ms a full GC, then heapUsed. Garbage is not memory an
 * export holds; what survives a GC is. Reports the peak above the pre-export baseline.
 */
async function withHeapSampling(work: () => Promise<number>): Promise<ExportFigures> {
  gc();
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  const sampler = setInterval(() => {
    gc();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 100);
  const started = process.hrtime.bigint();
  try {
    const entries = await work();
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    return { entries, eventsPerSecond: entries / elapsed, peakHeapMiB: (peak - before) / 2 ** 20 };
  } finally {
    clearInterval(sampler);
  }
}

/** The figures in the suite's shape (bench/support/result.ts). */
export function scenarios(f: AuditFigures): Scenario[] {
  const fromRate = (r: Rate, role: Role): Measurement => ({
    name: r.label,
    role,
    count: r.events,
    seconds: Math.round(r.seconds * 1000) / 1000,
    perSecond: Math.round(r.eventsPerSecond),
    p50Ms: NaN,
    p90Ms: NaN,
    p99Ms: NaN,
    errors: 0,
    loadAverage: loadAverage(),
  });
  const keys = ['service_100', 'service_1', 'http_100'];
  const out: Scenario[] = f.ingest.map(({ chained, baseline, serial }, i) => {
    const measurements = [
      fromRate(chained, 'system'),
      fromRate(baseline, 'limit'),
      ...(serial ? [fromRate(serial, 'reference')] : []),
    ];
    return {
      benchmark: 'audit',
      name: `ingest: ${chained.label}`,
      unit: 'event',
      concurrency: f.concurrency,
      measurements,
      ratios: [
        ratio(
          measurements,
          `audit.ingest_${keys[i]}_vs_plain`,
          `${chained.label} / plain INSERT`,
          chained.label,
          baseline.label,
          'perSecond',
          'higher',
          keys[i] === 'service_1' ? undefined : 0.7,
        ),
        ...(serial
          ? [
              ratio(
                measurements,
                `audit.ingest_${keys[i]}_vs_serial_plain`,
                `${chained.label} / plain INSERT one at a time`,
                chained.label,
                serial.label,
                'perSecond',
                'higher',
              ),
              ratio(
                measurements,
                'audit.ingest_serial_plain_vs_plain',
                'plain INSERT one at a time / plain INSERT (what being serial alone costs)',
                serial.label,
                baseline.label,
                'perSecond',
                'higher',
              ),
            ]
          : []),
      ],
      notes: serial
        ? [
            'one at a time: the plain INSERTs with one writer, as a chain appends; a reference for what the chain costs beyond being serial, not the limit line',
          ]
        : undefined,
    };
  });
  f.exports.forEach(({ chained, baseline }, i) => {
    const fromExport = (label: string, x: ExportFigures, role: Role): Measurement => ({
      ...fromRate(
        {
          label,
          events: x.entries,
          seconds: x.entries / x.eventsPerSecond,
          eventsPerSecond: x.eventsPerSecond,
        },
        role,
      ),
      peakRssMiB: Math.round(x.peakHeapMiB * 10) / 10,
    });
    const measurements = [
      fromExport('export (HTTP NDJSON, verified)', chained, 'system'),
      fromExport('plain keyset read, no verify', baseline, 'limit'),
    ];
    out.push({
      benchmark: 'audit',
      name: `export of ${chained.entries} entries`,
      unit: 'event',
      concurrency: 1,
      measurements,
      ratios: [
        ratio(
          measurements,
          `audit.export_${i === 0 ? 'quarter' : 'all'}_vs_plain`,
          'export / plain keyset read',
          'export (HTTP NDJSON, verified)',
          'plain keyset read, no verify',
          'perSecond',
          'higher',
        ),
      ],
      notes: [
        'peak RSS column: peak live heap above the start of the export (after full GCs), MiB; same process',
      ],
    });
  });
  return out;
}
