import { describe, expect, it } from '@jest/globals';
import { argumentDetectorStep, scanResponse, toolCallShapeError, withheldReason } from './detector-steps.js';

describe('decision steps shared by the proxy and the gateway', () => {
  it('argument detectors: high findings block in block mode, warn in warn mode, nothing when off', () => {
    const args = { path: '../../etc/passwd' };
    const blocked = argumentDetectorStep('block', args);
    expect(blocked.blocked).toEqual({
      message: expect.stringMatching(/^blocked by argument detectors: \$\.path: /),
      detectors: ['path_traversal'],
    });
    expect(argumentDetectorStep('warn', args)).toEqual({
      detectors: ['path_traversal'],
      warnings: [expect.stringMatching(/^path_traversal at \$\.path/)],
    });
    expect(argumentDetectorStep('off', args)).toEqual({ detectors: [], warnings: [] });
  });

  it('argument detectors: a medium finding only warns; arguments too deep to inspect block (fail closed)', () => {
    expect(argumentDetectorStep('block', { command: 'ls; rm -rf /' })).toEqual({
      detectors: ['shell_metacharacters'],
      warnings: [expect.stringMatching(/^shell_metacharacters at \$\.command/)],
    });
    let deep: unknown = 'x';
    for (let i = 0; i < 100; i++) deep = { d: deep };
    expect(argumentDetectorStep('block', deep).blocked?.message).toMatch(/could not be fully inspected/);
  });

  it('argument detectors: nothing found (or off) is one frozen verdict, whatever the mode', () => {
    const nothing = argumentDetectorStep('block', { message: 'hello', n: [1, 'two'] });
    expect(nothing).toEqual({ detectors: [], warnings: [] });
    expect(Object.isFrozen(nothing.detectors) && Object.isFrozen(nothing.warnings)).toBe(true);
    expect(argumentDetectorStep('warn', { message: 'hi' })).toBe(nothing);
    expect(argumentDetectorStep('off', { path: '../../etc/passwd' })).toBe(nothing);
    expect(argumentDetectorStep('block', undefined)).toBe(nothing);
    // Arguments that could not be fully inspected are not "nothing found": they still block.
    const deep = JSON.parse('{"a":'.repeat(70) + '"x"' + '}'.repeat(70)) as unknown;
    expect(argumentDetectorStep('block', deep).blocked).toBeDefined();
  });

  it('response scanning redacts in place and names the detectors, never the values', () => {
    const text = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { text: 'key AKIAIOSFODNN7EXAMPLE' } });
    const found = scanResponse(text)!;
    expect(found.count).toBe(1);
    expect(found.detectors).toEqual(['aws_access_key_id']);
    expect(found.text).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(JSON.parse(found.text)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: { text: 'key [REDACTED:aws_access_key_id]' },
    });
    expect(withheldReason(found)).toBe('response withheld by agent-bom: it contained aws access key id');
    expect(scanResponse(JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} }))).toBeUndefined();
  });

  it('bad-input: tools/call shape', () => {
    expect(toolCallShapeError({ name: 'echo' })).toBeUndefined();
    expect(toolCallShapeError({ name: 'echo', arguments: {} })).toBeUndefined();
    for (const bad of [undefined, null, [], 'x', { name: 1 }, { arguments: {} }])
      expect(toolCallShapeError(bad)).toBe('tools/call needs a string "name"');
    for (const args of [[], 'x', null, 3])
      expect(toolCallShapeError({ name: 'echo', arguments: args })).toBe(
        'tools/call "arguments" must be an object',
      );
  });
});
