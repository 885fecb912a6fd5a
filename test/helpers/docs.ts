import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';

/** Extraction of what the code declares (variables, routes, commands) and what the docs say, for docs-match-code. */

/** Source files (`.ts`, `.tsx`, no specs) under `dirs`, relative to the repository root. */
export function sourceFiles(...dirs: string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(file);
      } else if (/\.tsx?$/.test(entry.name) && !/\.(spec|test)\.tsx?$/.test(entry.name)) files.push(file);
    }
  };
  for (const dir of dirs) walk(dir);
  return files;
}

/** The code of a TypeScript file without its comments (a `//` after `:` or a quote is part of a URL, kept). */
export function codeOf(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/**
 * The environment variables a set of files reads: `env.NAME` and `env['NAME']` (any object called `env`,
 * `process.env` included), a zod shape key `NAME:` of the control plane's config schema (files under
 * `src/core/config`), and a string that is exactly an `AGENT_BOM_*` name (the gateway's `get('NAME')` and its
 * helpers). Comments do not count: a name only mentioned is not read.
 */
export function envReads(files: string[]): Set<string> {
  const names = new Set<string>();
  for (const file of files) {
    const code = codeOf(file);
    for (const m of code.matchAll(/\benv\??\.([A-Z][A-Z0-9_]*)\b|\benv\[['"]([A-Z][A-Z0-9_]*)['"]\]/g))
      names.add((m[1] ?? m[2])!);
    for (const m of code.matchAll(/['"](AGENT_BOM_[A-Z0-9_]*[A-Z0-9])['"]/g)) names.add(m[1]!);
    if (file.split(path.sep).join('/').startsWith('src/core/config/'))
      for (const m of code.matchAll(/^\s+([A-Z][A-Z0-9_]*[A-Z0-9]):/gm)) names.add(m[1]!);
  }
  return names;
}

/** The rows of every Markdown table in `markdown` (header rows included, separator rows left out), as cells. */
export function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((cell) => cell.replace(/\\\|/g, '|').trim()),
    )
    .filter((cells) => !cells.every((cell) => /^:?-*:?$/.test(cell)));
}

/** First cells that occur in more than one row of the same page's tables (what a doubled table leaves). */
export function duplicateRows(markdown: string): string[] {
  const seen = new Map<string, number>();
  for (const [first] of tableRows(markdown)) seen.set(first!, (seen.get(first!) ?? 0) + 1);
  return [...seen].filter(([, count]) => count > 1).map(([first]) => first);
}

/** `` `GET`/`PUT /v1/x/{id}?q=`, `GET /y` `` → `GET /v1/x/:id`, `PUT /v1/x/:id`, `GET /y`: an api.md cell's routes. */
export function routesOfCell(cell: string): string[] {
  return cell
    .replace(/`/g, '')
    .split(/,\s+/)
    .flatMap((part) => {
      const m = /^((?:GET|POST|PUT|PATCH|DELETE)(?:\/(?:GET|POST|PUT|PATCH|DELETE))*) (\/\S*)$/.exec(part);
      if (!m) return [];
      const route = m[2]!.replace(/\?.*$/, '').replace(/\{([^}]+)\}/g, ':$1');
      return m[1]!.split('/').map((method) => `${method} ${route}`);
    });
}

/** A command of the CLI: its words after `agent-bom` and its long flags. */
export interface CliCommand {
  path: string;
  flags: string[];
}

/** Every leaf command of a commander program (groups such as `keys` are not commands of their own). */
export function leafCommands(program: Command, prefix: string[] = []): CliCommand[] {
  return program.commands.flatMap((command) => {
    const words = [...prefix, command.name()];
    if (command.commands.length > 0) return leafCommands(command, words);
    const flags = command.options
      .map((option) => option.long)
      .filter((long): long is string => Boolean(long));
    return [{ path: words.join(' '), flags }];
  });
}

/** `` `agent-bom keys create --tenant T [--json]` `` → `keys create` and its flags: a cli.md table row's command. */
export function commandOfCell(cell: string): CliCommand | undefined {
  const text = cell.replace(/`/g, '');
  const m = /^agent-bom((?: [a-z][a-z-]*)+)(.*)$/.exec(text);
  if (!m) return undefined;
  return {
    path: m[1]!.trim(),
    flags: [...m[2]!.split(/ -- /)[0]!.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((f) => f[0]),
  };
}

/** The Markdown files a cell links to, resolved against `docs/`. */
export function linkedPages(cell: string): string[] {
  return [...cell.matchAll(/\]\(([^)#]+\.md)(?:#[^)]*)?\)/g)].map((m) => path.join('docs', m[1]!));
}
