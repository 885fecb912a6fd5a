import { describe, expect, it } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';

const here = new URL('./', import.meta.url);
const sources = readdirSync(here).filter((name) => name.endsWith('.ts') && !name.endsWith('.spec.ts'));

describe('libs/policy boundaries', () => {
  it('imports only its own modules and node built-ins (no Nest, no TypeORM, nothing from src/ or apps/)', () => {
    const foreign: string[] = [];
    for (const name of sources) {
      const text = readFileSync(new URL(name, here), 'utf8');
      for (const [, specifier] of text.matchAll(/^(?:import|export)[^;]*?from '([^']+)'/gms)) {
        if (!/^\.\/[\w-]+\.js$/.test(specifier) && !specifier.startsWith('node:'))
          foreign.push(`${name}: ${specifier}`);
      }
    }
    expect(sources.length).toBeGreaterThan(10);
    expect(foreign).toEqual([]);
  });
});
