import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { AuditSink } from '../../apps/proxy/src/audit/audit-sink.js';
import { auditText, buildEvent } from '../../apps/proxy/src/audit/events.js';
import { ProxyLogger } from '../../apps/proxy/src/logger.js';
import { newTrace } from '../../libs/runtime/src/index.js';
import {
  AUDIT_ID_PATTERN,
  FINGERPRINT_PATTERN,
  TRACE_ID_PATTERN,
  type RuntimeAuditEvent,
} from '../../libs/contracts/src/index.js';
import { ControlPlaneClient } from '../../libs/control-plane-client/src/index.js';
import { AuditSpool } from '../../libs/runtime/src/index.js';
import { waitFor } from '../helpers/processes.js';
import { startBundleServer, type BundleServer } from '../helpers/bundle-server.js';

/**
 * The audit spool and its delivery: fsynced appends, delivery in order, nothing lost and nothing doubled across
 * outages and restarts, orphaned spools adopted, bounded size, and events that fit the ingest contract.
 */
const TOKEN = 'abom_' + 'a'.repeat(43);
let dir: string;
let server: BundleServer;
const quiet = new ProxyLogger('error', undefined, { write: () => true } as unknown as NodeJS.WritableStream);

const event = (n: number): RuntimeAuditEvent =>
  buildEvent(
    { type: 'tool_call.allowed', tool: `t${n}`, method: 'tools/call', requestId: n },
    { server: 's' },
  );

function sink(session: string, options: { spool?: AuditSpool; alive?: (pid: number) => boolean } = {}) {
  const spool = options.spool ?? new AuditSpool(dir, session, 1024 * 1024, options.alive);
  const client = new ControlPlaneClient({ baseUrl: server.url, apiKey: TOKEN });
  return {
    spool,
    sink: new AuditSink(
      quiet,
      { sourceId: 'ep-x:proxy:s', sessionId: session, flushMs: 10, maxBackoffMs: 100 },
      client,
      spool,
    ),
  };
}

const delivered = () => server.auditBatches.flatMap((b) => b.events.map((e) => e.event_id as string));

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'abom-spool-'));
  server = await startBundleServer({ token: TOKEN });
});
afterEach(async () => {
  await server.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('audit delivery', () => {
  it('delivers in order, with source and session, and leaves nothing spooled', async () => {
    const { sink: s } = sink('sess-1');
    await s.start();
    const events = Array.from({ length: 30 }, (_, i) => event(i));
    for (const e of events) s.record(e);
    await waitFor(() => delivered().length === 30, 5000);
    expect(delivered()).toEqual(events.map((e) => e.event_id));
    expect(server.auditBatches[0]).toMatchObject({ source_id: 'ep-x:proxy:s', session_id: 'sess-1' });
    await s.close(1000);
    expect((await fs.readdir(dir)).filter((f) => f.endsWith('.ndjson'))).toEqual([]);
  });

  it('spools through an outage and delivers each event exactly once when the control plane returns', async () => {
    const { sink: s } = sink('sess-2');
    await s.start();
    await server.stop();
    const events = Array.from({ length: 50 }, (_, i) => event(i));
    for (const e of events) s.record(e);
    await s.flush();
    const file = (await fs.readdir(dir)).find((f) => f.endsWith('.ndjson'))!;
    expect((await fs.readFile(path.join(dir, file), 'utf8')).trim().split('\n')).toHaveLength(50);
    await server.start();
    await waitFor(() => delivered().length >= 50, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(delivered()).toEqual(events.map((e) => e.event_id));
    await s.close(1000);
  });

  it('a proxy that died with events spooled: the next one adopts and delivers them first', async () => {
    const dead = new AuditSpool(dir, 'sess-dead', 1024 * 1024);
    await dead.open();
    const old = [event(1), event(2), event(3)];
    await dead.append(old);
    // Simulate the owner being gone: rename to a pid that cannot exist.
    const [file] = (await fs.readdir(dir)).filter((f) => f.endsWith('.ndjson'));
    await fs.rename(path.join(dir, file), path.join(dir, 'spool-999999999-sess-dead.ndjson'));

    const { sink: s } = sink('sess-next');
    await s.start();
    s.record(event(4));
    await waitFor(() => delivered().length === 4, 5000);
    expect(server.auditBatches[0]).toMatchObject({ session_id: 'sess-dead' });
    expect(delivered().slice(0, 3)).toEqual(old.map((e) => e.event_id));
    await s.close(1000);
    expect(await fs.readdir(dir)).not.toContain('spool-999999999-sess-dead.ndjson');
  });

  it('resumes after the last acknowledged event (a crash after ack loses nothing and re-sends nothing)', async () => {
    const spool = new AuditSpool(dir, 'sess-3', 1024 * 1024, () => false);
    await spool.open();
    await spool.append([event(1), event(2)]);
    const first = await spool.next(1, 1024 * 1024);
    await spool.ack(first!);
    await spool.append([event(3)]);
    const rest = await spool.next(10, 1024 * 1024);
    expect(rest!.events.map((e) => e.tool)).toEqual(['t2', 't3']);
  });

  it('is bounded: over the limit, new events are dropped and counted', async () => {
    const spool = new AuditSpool(dir, 'sess-4', 2000);
    await spool.open();
    const kept = 50 - (await spool.append(Array.from({ length: 50 }, (_, i) => event(i))));
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(50);
    expect(spool.dropped).toBe(50 - kept);
    // The oldest evidence is kept: the file holds the first `kept` events, within the bound.
    const [file] = (await fs.readdir(dir)).filter((f) => f.endsWith('.ndjson'));
    const text = await fs.readFile(path.join(dir, file), 'utf8');
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(2000);
    const tools = text
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { tool: string }).tool);
    expect(tools).toEqual(Array.from({ length: kept }, (_, i) => `t${i}`));
  });

  it('skips a torn last line in an adopted file', async () => {
    await fs.writeFile(
      path.join(dir, 'spool-999999998-sess-torn.ndjson'),
      JSON.stringify(event(1)) + '\n{"event_id":"x","ty',
    );
    const { sink: s } = sink('sess-5');
    await s.start();
    await waitFor(() => delivered().length === 1, 5000);
    await s.close(1000);
  });
});

describe('events', () => {
  it('fit the ingest contract: ids, fingerprints, trace ids, bounded clean text, no secrets', () => {
    const trace = newTrace();
    const built = buildEvent(
      {
        type: 'tool_call.denied',
        tool: 'x'.repeat(500),
        reason: 'denied: arg was AKIAIOSFODNN7EXAMPLE\u0000\u202e and a lone \ud800',
        trace,
        requestId: 12,
        argumentFingerprint: 'sha256:' + '0'.repeat(64),
        detectors: ['path_traversal', 'Bad Name!'],
      },
      { server: 'srv', client: 'claude\nai' },
    );
    expect(built.event_id).toMatch(AUDIT_ID_PATTERN);
    expect(built.trace_id).toMatch(TRACE_ID_PATTERN);
    expect(built.argument_fingerprint).toMatch(FINGERPRINT_PATTERN);
    expect(built.tool!.length).toBeLessThanOrEqual(200);
    expect(built.reason).toBe('denied: arg was [REDACTED:aws_access_key_id]  and a lone');
    expect(built.client).toBe('claude ai');
    expect(built.detectors).toEqual(['path_traversal']);
    expect(built.request_id).toBe('12');
    expect(auditText('\u0007', 10)).toBeUndefined();
  });
});
