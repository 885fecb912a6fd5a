import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { DiskBundleStore, MemoryBundleStore } from './bundle-store.js';
import { FilePolicySource } from './file-source.js';
import { PolicySourceError, readPolicyFile } from './policy-file.js';

const DENY = { version: 1, rules: [{ id: 'no-shell', effect: 'deny', tools: ['shell'] }] };

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'abom-policy-source-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => 'loaded',
    (error: unknown) => (error instanceof PolicySourceError ? error.message : `other: ${String(error)}`),
  );

describe('readPolicyFile', () => {
  it('reads JSON (.json) and YAML (anything else), names the version by content', async () => {
    await fs.writeFile(path.join(dir, 'p.json'), JSON.stringify(DENY));
    await fs.writeFile(
      path.join(dir, 'p.yaml'),
      'version: 1\nrules:\n  - {id: no-shell, effect: deny, tools: [shell]}\n',
    );
    await fs.writeFile(path.join(dir, 'policy'), JSON.stringify(DENY)); // a ConfigMap key: no extension
    const json = await readPolicyFile(path.join(dir, 'p.json'));
    expect(json).toMatchObject({ rules: 1, version: expect.stringMatching(/^sha256:[0-9a-f]{16}$/) });
    expect((await readPolicyFile(path.join(dir, 'p.yaml'))).rules).toBe(1);
    expect((await readPolicyFile(path.join(dir, 'policy'))).version).toBe(json.version);
  });

  it('refuses a directory, a FIFO (without blocking on it) and a missing file', async () => {
    const fifo = path.join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    expect(await refusal(readPolicyFile(dir))).toBe('not a regular file');
    expect(await refusal(readPolicyFile(fifo))).toBe('not a regular file');
    expect(await refusal(readPolicyFile(path.join(dir, 'nope.json')))).toBe('cannot read it (ENOENT)');
  });

  it('refuses a file over the limit, even one that parses', async () => {
    const file = path.join(dir, 'big.json');
    await fs.writeFile(file, JSON.stringify(DENY) + ' '.repeat(2048));
    expect(await refusal(readPolicyFile(file, 1024))).toBe('larger than 1024 bytes');
    expect((await readPolicyFile(file, 4096)).rules).toBe(1);
  });

  it('names the syntax and the rule at fault, without the file (the caller names its flag)', async () => {
    await fs.writeFile(path.join(dir, 'bad.json'), '{"version": 1,');
    await fs.writeFile(
      path.join(dir, 'rule.json'),
      '{"version": 1, "rules": [{"id": "x", "effect": "explode"}]}',
    );
    expect(await refusal(readPolicyFile(path.join(dir, 'bad.json')))).toMatch(/^not valid JSON \(/);
    expect(await refusal(readPolicyFile(path.join(dir, 'rule.json')))).toMatch(
      /^rules\[0\] \(id "x"\): effect: /,
    );
  });
});

describe('FilePolicySource', () => {
  it('reloads a change, refuses a broken or oversized one keeping the last good policy, recovers', async () => {
    const file = path.join(dir, 'p.json');
    await fs.writeFile(file, JSON.stringify(DENY));
    const loaded: string[] = [];
    const refused: string[] = [];
    const source = await FilePolicySource.open(file, { maxBytes: 1024, intervalMs: 60_000 });
    source.watch({ onLoad: (s) => loaded.push(s.version), onRefused: (m) => refused.push(m) });
    const first = source.current.version;
    await fs.writeFile(file, JSON.stringify({ version: 1, rules: [] }));
    expect(await source.reload()).toBe(true);
    expect(source.current.rules).toBe(0);
    await fs.writeFile(file, '{"version": 1, "rules": [{"id": "x", "effect": "explode"}]}');
    expect(await source.reload()).toBe(false);
    await fs.writeFile(file, JSON.stringify(DENY) + ' '.repeat(2048));
    expect(await source.reload()).toBe(false);
    expect(source.lastError).toBe('larger than 1024 bytes');
    expect(source.current.rules).toBe(0);
    await fs.writeFile(file, JSON.stringify(DENY));
    expect(await source.reload()).toBe(true);
    expect(source.lastError).toBeNull();
    expect(source.current.version).toBe(first);
    expect(loaded).toHaveLength(2);
    expect(refused).toEqual([expect.stringMatching(/effect/), 'larger than 1024 bytes']);
    source.close();
  });

  it('refuses to open what it would refuse to reload', async () => {
    await expect(FilePolicySource.open(dir)).rejects.toThrow(PolicySourceError);
  });
});

describe('bundle stores', () => {
  it('disk: atomic 0600 files in a 0700 directory; a corrupt state file only loses the floor', async () => {
    const store = new DiskBundleStore(path.join(dir, 'cache'));
    await store.saveBundle('{"b":1}');
    await store.saveState({ etag: '"1.k"', tenant_id: 'acme', min_version: 4 });
    expect((await fs.stat(store.location)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(store.path('state.json'))).mode & 0o777).toBe(0o600);
    expect(await new DiskBundleStore(store.location).load()).toMatchObject({
      bundle: '{"b":1}',
      state: { min_version: 4, tenant_id: 'acme' },
    });
    await fs.writeFile(store.path('state.json'), '{"min_version": 1e400');
    expect((await store.load()).state).toEqual({});
    expect(store.persistent).toBe(true);
  });

  it('memory: holds the floor for the life of the process only, and hands out copies', async () => {
    const store = new MemoryBundleStore();
    await store.saveState({ min_version: 3 });
    const loaded = await store.load();
    loaded.state.min_version = 1;
    expect((await store.load()).state.min_version).toBe(3);
    expect(store.persistent).toBe(false);
    expect((await new MemoryBundleStore().load()).state).toEqual({});
  });
});
