import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { AuditFile, newTrace } from '../../../../libs/runtime/src/index.js';
import { ProxyLogger } from '../logger.js';
import { AuditSink } from './audit-sink.js';

const options = { sourceId: 'ep-x:proxy:s', sessionId: 's-1', flushMs: 10, maxBackoffMs: 100 };
const facts = {
  type: 'tool_call.allowed' as const,
  tool: 'echo',
  method: 'tools/call',
  trace: newTrace(),
  requestId: 7,
};
const context = { server: 'srv' };
const quiet = { write: () => true } as unknown as NodeJS.WritableStream;

describe('AuditSink', () => {
  it('builds no event when nothing takes events (no --log, --audit-file or control plane): counts it only', () => {
    const sink = new AuditSink(new ProxyLogger('error', undefined, quiet), options);
    expect(sink.takesEvents).toBe(false);
    sink.emit(facts, context);
    expect(sink.stats.recorded).toBe(1);
  });

  it('writes the built event to the --log file and to the --audit-file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-sink-spec-'));
    try {
      const logger = new ProxyLogger('error', path.join(dir, 'proxy.log'), quiet);
      const logged = new AuditSink(logger, options);
      expect(logged.takesEvents).toBe(true);
      logged.emit(facts, context);
      await logger.close();
      const line = JSON.parse(fs.readFileSync(path.join(dir, 'proxy.log'), 'utf8').trim());
      expect(line).toMatchObject({ level: 'audit', event: { type: 'tool_call.allowed', tool: 'echo' } });

      const file = new AuditFile(
        { path: path.join(dir, 'audit.jsonl'), maxBytes: 1 << 20, keep: 0, ...options },
        { info: () => undefined, warn: () => undefined, error: () => undefined },
      );
      file.open();
      const filed = new AuditSink(
        new ProxyLogger('error', undefined, quiet),
        options,
        undefined,
        undefined,
        file,
      );
      expect(filed.takesEvents).toBe(true);
      filed.emit(facts, context);
      file.close();
      const event = JSON.parse(fs.readFileSync(path.join(dir, 'audit.jsonl'), 'utf8').trim());
      expect(event).toMatchObject({
        type: 'tool_call.allowed',
        tool: 'echo',
        request_id: '7',
        server: 'srv',
      });
      expect(filed.stats.recorded).toBe(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
