import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isRole, permissionsOf, ROLES, type Role } from './index.js';

/**
 * docs/auth.md's role table is the matrix people read: each row, with `role` + … expanded, must list exactly the
 * permissions `ROLE_PERMISSIONS` grants (a table that still gave analysts `audit:write` once went unnoticed).
 */

/** Role → the backticked names of its row's permissions cell, in order. */
function documentedRows(markdown: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  const header = markdown.indexOf('| role ');
  if (header < 0) throw new Error('docs/auth.md has no role table');
  for (const line of markdown.slice(header).split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    const [, role, , permissions] = line.split('|').map((cell) => cell.trim());
    const name = /^`([^`]+)`$/.exec(role ?? '')?.[1];
    if (!name) throw new Error(`not a role row: ${line}`);
    if (rows.has(name)) throw new Error(`role ${name} is listed twice`);
    rows.set(
      name,
      [...(permissions ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!),
    );
  }
  return rows;
}

/** A row's permissions, a named role standing for all of that role's row. */
function expand(rows: Map<string, string[]>, role: string, seen: string[] = []): string[] {
  if (seen.includes(role)) throw new Error(`roles refer to each other: ${[...seen, role].join(' → ')}`);
  const names = rows.get(role);
  if (!names) throw new Error(`role ${role} is not in the table`);
  return [...new Set(names.flatMap((n) => (isRole(n) ? expand(rows, n, [...seen, role]) : [n])))].sort();
}

const authDoc = readFileSync(path.resolve('docs/auth.md'), 'utf8');

describe('docs/auth.md role table', () => {
  const rows = documentedRows(authDoc);

  it('lists every role once, and nothing else', () => {
    expect([...rows.keys()].sort()).toEqual([...ROLES].sort());
  });

  it.each([...ROLES])('%s: the documented permissions are the granted ones', (role: Role) => {
    expect(expand(rows, role)).toEqual(permissionsOf(role));
  });

  it('the check refuses a stray permission and a duplicated row', () => {
    const stray = authDoc.replace(
      '`findings:triage`, `audit:read`',
      '`findings:triage`, `audit:read`, `audit:write`',
    );
    expect(stray).not.toEqual(authDoc);
    expect(expand(documentedRows(stray), 'analyst')).not.toEqual(permissionsOf('analyst'));
    const twice = authDoc.replace(/^(\| `viewer` [^\n]*\n)/m, '$1$1');
    expect(() => documentedRows(twice)).toThrow('role viewer is listed twice');
  });
});
