import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { AuditFile } from '../../../../libs/runtime/src/index.js';
import { AuditSink } from './audit-sink.js';

const options = { sourceId: 'gw-test', sessionId: 'gw-session', maxEvents: 100, flushMs: 1000 };
const allowed = { type: 'tool_call.allowed', tool: 'echo', server: 'up', request_id: '7' } as const;
const denied = { type: 'tool_call.denied', tool: 'rm', server: 'up', reason: 'rule r1' } as const;

function capture() {
  const lines: string[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    }),
  );
  return { lines, logger };
}

describe('AuditSink', () => {
  it('without an audit file or a control plane, counts an allowed call and still logs every other event', () => {
    const { lines, logger } = capture();
    const sink = new AuditSink('t1', undefined, options, logger);
    sink.record(allowed);
    expect(lines).toEqual([]);
    sink.record(denied);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      audit: { tenant: 't1', type: 'tool_call.denied', tool: 'rm' },
    });
    expect(sink.pending).toBe(0);
  });

  it('with an audit file, writes an allowed call to it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-sink-'));
    try {
      const { logger } = capture();
      const file = new AuditFile(
        {
          path: path.join(dir, 'audit.jsonl'),
          maxBytes: 1 << 20,
          keep: 1,
          sourceId: 'gw-test',
          sessionId: 'gw-session',
        },
        { info: () => undefined, warn: () => undefined, error: () => undefined },
      );
      file.open();
      new AuditSink('t1', undefined, options, logger, file).record(allowed);
      const written = fs.readFileSync(path.join(dir, 'audit.jsonl'), 'utf8').trim().split('\n');
      expect(written).toHaveLength(1);
      expect(JSON.parse(written[0])).toMatchObject({ type: 'tool_call.allowed', tool: 'echo', tenant: 't1' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
