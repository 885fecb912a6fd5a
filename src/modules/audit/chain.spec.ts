import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { CheckpointPurpose, SignedCheckpoint } from '../../../libs/contracts/src/index.js';
import { KeyRing, keyIdOf } from '../../core/signing/key-ring.js';
import {
  canonicalJson,
  CHECKPOINT_FORMAT,
  checkpointPayload,
  entryHash,
  GENESIS_HASH,
  type ChainEntry,
} from './chain.js';
import { ChainVerifier } from './chain-verifier.js';

const { privateKey } = generateKeyPairSync('ed25519');
const ring = new KeyRing([createPublicKey(privateKey)]);
const TENANT = 'acme';

function chain(length: number, tenant = TENANT): ChainEntry[] {
  const entries: ChainEntry[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= length; seq++) {
    const event = { event_id: `e${seq}`, type: 'tool_call.allowed', tool: 'read', n: seq };
    const hash = entryHash(tenant, seq, prev, event);
    entries.push({ tenant_id: tenant, seq, prev_hash: prev, hash, event });
    prev = hash;
  }
  return entries;
}

function checkpoint(
  entry: { seq: number; hash: string },
  purpose: CheckpointPurpose = 'periodic',
  key = privateKey,
): SignedCheckpoint {
  const statement = {
    format: CHECKPOINT_FORMAT,
    tenant_id: TENANT,
    seq: entry.seq,
    hash: entry.hash,
    purpose,
    signed_at: '2026-01-01T00:00:00.000Z',
    key_id: keyIdOf(key),
  } as const;
  return {
    ...statement,
    signature: sign(null, Buffer.from(checkpointPayload(statement)), key).toString('base64url'),
  };
}

type Item = ChainEntry | SignedCheckpoint;
const isCheckpoint = (item: Item): item is SignedCheckpoint => 'signature' in item;

function verify(
  items: Item[],
  options: {
    start?: 'strict' | 'partial';
    head?: { seq: number; hash?: string };
    requireFinalCheckpoint?: boolean;
  } = {},
) {
  const verifier = new ChainVerifier({
    tenantId: TENANT,
    start: options.start ?? 'strict',
    checkSignature: (keyId, payload, signature) => ring.verify(keyId, payload, signature),
  });
  for (const item of items) {
    const ok = isCheckpoint(item) ? verifier.addCheckpoint(item) : verifier.addEntry(item);
    if (!ok) break;
  }
  return verifier.finish(options);
}

describe('canonicalJson', () => {
  it('sorts keys at every depth, drops undefined, and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [true, null, 'x'], c: undefined } })).toBe(
      '{"a":{"d":[true,null,"x"]},"b":1}',
    );
  });

  it('sorts by UTF-16 code units and escapes like JSON.stringify (RFC 8785)', () => {
    expect(canonicalJson({ é: 1, z: 2, '\u20ac': 3, '😀': 4 })).toBe('{"z":2,"é":1,"€":3,"😀":4}');
    expect(canonicalJson('a"b\\c\n\u0001')).toBe('"a\\"b\\\\c\\n\\u0001"');
  });

  it('writes what the earlier filter/sort/map version wrote, or throws where it threw, on 5,000 random values', () => {
    // The implementation before the member-by-member build, kept here as the reference.
    const reference = (value: unknown): string => {
      if (value === null) return 'null';
      switch (typeof value) {
        case 'string':
          return JSON.stringify(value);
        case 'boolean':
          return value ? 'true' : 'false';
        case 'number':
          if (!Number.isSafeInteger(value)) throw new TypeError('not a safe integer');
          return String(value);
        case 'object': {
          if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
          const record = value as Record<string, unknown>;
          const members = Object.keys(record)
            .filter((key) => record[key] !== undefined)
            .sort()
            .map((key) => `${JSON.stringify(key)}:${reference(record[key])}`);
          return `{${members.join(',')}}`;
        }
        default:
          throw new TypeError(typeof value);
      }
    };
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
    const KEYS = [
      'a',
      'b',
      'B',
      '',
      '10',
      '9',
      '0',
      '__proto__',
      'é',
      '\u20ac',
      '😀',
      'a"b',
      'x\ny',
      'event_id',
    ];
    const LEAVES = [
      null,
      true,
      false,
      0,
      -0,
      7,
      1.5,
      2 ** 53,
      'x',
      '',
      'a"b\\c\n\u0001\u2028',
      '\ud800',
      undefined,
    ];
    const random = (depth: number): unknown => {
      const roll = next();
      if (depth > 3 || roll < 0.5) return pick(LEAVES);
      if (roll < 0.7) return Array.from({ length: Math.floor(next() * 4) }, () => random(depth + 1));
      const out: Record<string, unknown> = {};
      for (let i = Math.floor(next() * 6); i > 0; i--)
        Object.defineProperty(out, pick(KEYS), {
          value: random(depth + 1),
          enumerable: true,
          configurable: true,
        });
      return out;
    };
    const text = (f: (value: unknown) => string, value: unknown) => {
      try {
        return f(value);
      } catch {
        return 'threw';
      }
    };
    let compared = 0;
    for (let i = 0; i < 5000; i++) {
      const value = random(0);
      const expected = text(reference, value);
      expect(text(canonicalJson, value)).toBe(expected);
      if (expected !== 'threw') compared++;
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it('refuses values whose text is not stable across implementations', () => {
    expect(() => canonicalJson(1.5)).toThrow();
    expect(() => canonicalJson(2 ** 53)).toThrow();
    expect(() => canonicalJson({ f: () => 1 })).toThrow();
  });

  it('gives a fixed hash for a fixed entry (test vector for third-party verifiers)', () => {
    const event = { event_id: 'e1', type: 'tool_call.denied', timestamp: '2026-01-01T00:00:00.000Z' };
    expect(canonicalJson({ tenant_id: 'acme', seq: 1, prev_hash: GENESIS_HASH, event })).toBe(
      `{"event":{"event_id":"e1","timestamp":"2026-01-01T00:00:00.000Z","type":"tool_call.denied"},"prev_hash":"${GENESIS_HASH}","seq":1,"tenant_id":"acme"}`,
    );
    // Computed independently: python3 -c "import hashlib; print(hashlib.sha256(b'<the line above>').hexdigest())"
    expect(entryHash('acme', 1, GENESIS_HASH, event)).toBe(
      'cafaf337629c5ca2f85d3697e3ce8cfa279ed16aad2e2366c3582ccd07e4a76b',
    );
  });
});

describe('ChainVerifier', () => {
  it('accepts an intact chain with its checkpoints and reports the range', () => {
    const entries = chain(5);
    const report = verify(
      [...entries.slice(0, 3), checkpoint(entries[2]), ...entries.slice(3), checkpoint(entries[4])],
      {
        head: entries[4],
      },
    );
    expect(report).toMatchObject({
      ok: true,
      verified_from: 1,
      verified_to: 5,
      entries_verified: 5,
      checkpoints_verified: 2,
      checkpointed_to: 5,
      start: 'genesis',
      first_broken: null,
    });
  });

  it('an empty chain with no head is fine', () => {
    expect(verify([])).toMatchObject({ ok: true, start: 'empty', verified_from: null });
  });

  it('locates an altered payload', () => {
    const entries = chain(5);
    entries[2] = { ...entries[2], event: { ...(entries[2].event as object), tool: 'rm' } };
    expect(verify(entries).first_broken).toMatchObject({ seq: 3, reason: 'hash_mismatch' });
  });

  it('locates an altered payload whose hash was recomputed: the next link breaks, the checkpoint catches it', () => {
    const entries = chain(5);
    const forged = { ...(entries[2].event as object), tool: 'rm' };
    entries[2] = { ...entries[2], event: forged, hash: entryHash(TENANT, 3, entries[2].prev_hash, forged) };
    expect(verify(entries).first_broken).toMatchObject({ seq: 4, reason: 'link_broken' });
    const original = chain(5);
    expect(verify([...entries.slice(0, 3), checkpoint(original[2])]).first_broken).toMatchObject({
      seq: 3,
      reason: 'checkpoint_mismatch',
    });
  });

  it('locates a deleted middle entry', () => {
    const entries = chain(6);
    expect(verify([...entries.slice(0, 3), ...entries.slice(4)]).first_broken).toMatchObject({
      seq: 4,
      reason: 'seq_gap',
    });
  });

  it('locates swapped seqs (reordering)', () => {
    const entries = chain(6);
    const swapped = [
      ...entries.slice(0, 3),
      { ...entries[4], seq: 4 },
      { ...entries[3], seq: 5 },
      entries[5],
    ];
    expect(verify(swapped).first_broken).toMatchObject({ seq: 4, reason: 'hash_mismatch' });
  });

  it('catches deleted newest entries through a checkpoint beyond the last entry', () => {
    const entries = chain(8);
    const report = verify([...entries.slice(0, 5), checkpoint(entries[7])]);
    expect(report.first_broken).toMatchObject({ seq: 6, reason: 'missing_tail' });
    expect(report.verified_to).toBe(5);
  });

  it('catches deleted newest entries through the head row', () => {
    const entries = chain(8);
    expect(verify(entries.slice(0, 5), { head: entries[7] }).first_broken).toMatchObject({
      seq: 6,
      reason: 'missing_tail',
    });
  });

  it('catches a wiped chain whose checkpoints remain, at seq 1', () => {
    const entries = chain(8);
    expect(verify([checkpoint(entries[3]), checkpoint(entries[7])]).first_broken).toMatchObject({
      seq: 1,
      reason: 'missing_head',
    });
  });

  it('catches deleted oldest entries unless a signed retention anchor covers them', () => {
    const entries = chain(8);
    expect(verify(entries.slice(3)).first_broken).toMatchObject({ seq: 1, reason: 'missing_head' });
    expect(verify([checkpoint(entries[2]), ...entries.slice(3)]).first_broken).toMatchObject({
      seq: 1,
      reason: 'missing_head',
    });
    const anchored = verify([checkpoint(entries[2], 'anchor'), ...entries.slice(3)], { head: entries[7] });
    expect(anchored).toMatchObject({ ok: true, start: 'anchor', verified_from: 4, verified_to: 8 });
  });

  it('an anchor must match the first remaining entry', () => {
    const entries = chain(8);
    const other = chain(3, TENANT).map((e) => ({ ...e, hash: 'f'.repeat(64) }));
    expect(verify([checkpoint(other[2], 'anchor'), ...entries.slice(3)]).first_broken).toMatchObject({
      seq: 4,
      reason: 'link_broken',
    });
  });

  it('refuses checkpoints with a bad signature or from an unknown key', () => {
    const entries = chain(3);
    const bad = { ...checkpoint(entries[2]), signature: checkpoint(entries[1]).signature };
    expect(verify([...entries, bad]).first_broken).toMatchObject({
      seq: 3,
      reason: 'checkpoint_signature_invalid',
    });
    const stranger = checkpoint(entries[2], 'periodic', generateKeyPairSync('ed25519').privateKey);
    expect(verify([...entries, stranger]).first_broken).toMatchObject({
      seq: 3,
      reason: 'checkpoint_unknown_key',
    });
    const relabelled = { ...checkpoint(entries[2]), purpose: 'anchor' as const };
    expect(verify([...entries, relabelled]).first_broken).toMatchObject({
      reason: 'checkpoint_signature_invalid',
    });
  });

  it("refuses another tenant's entries", () => {
    expect(verify(chain(2, 'globex')).first_broken).toMatchObject({ seq: 1, reason: 'wrong_tenant' });
  });

  it('an export must end with a checkpoint over its last entry', () => {
    const entries = chain(4);
    expect(verify([...entries, checkpoint(entries[3])], { requireFinalCheckpoint: true }).ok).toBe(true);
    expect(
      verify([...entries.slice(0, 3), checkpoint(entries[2]), entries[3]], { requireFinalCheckpoint: true })
        .first_broken,
    ).toMatchObject({
      seq: 4,
      reason: 'unsigned_tail',
    });
  });

  it('a partial export may start anywhere but says so', () => {
    const entries = chain(6);
    expect(verify([...entries.slice(2), checkpoint(entries[5])], { start: 'partial' })).toMatchObject({
      ok: true,
      start: 'unanchored',
      verified_from: 3,
    });
    expect(verify([checkpoint(entries[1]), ...entries.slice(2)], { start: 'partial' })).toMatchObject({
      ok: true,
      start: 'unanchored',
    });
  });

  it('refuses malformed input instead of throwing', () => {
    const entries = chain(2);
    expect(verify([{ ...entries[0], hash: 'nothex' }]).first_broken).toMatchObject({ reason: 'malformed' });
    expect(verify([...entries, { ...checkpoint(entries[1]), seq: -1 }]).first_broken).toMatchObject({
      reason: 'malformed',
    });
    expect(verify([{ ...entries[0], event: { x: 0.5 } }]).first_broken).toMatchObject({
      reason: 'hash_mismatch',
    });
  });
});
