import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** What names a server for its tool baseline: its name and whole command line, and where the cache is. */
export interface BaselineServer {
  readonly serverName: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cacheDir: string;
}

/**
 * The tool fingerprints a server listed in its last session, kept in
 * `<cache-dir>/proxy/tools/<digest>.json`. The digest covers the server name and its whole command line, so
 * arguments (which may hold a server's own token) are never written down. Tool *names* and fingerprints are, as
 * they are not secret. Read once at start; replaced atomically after each session's first complete listing.
 */
export class ToolBaselineStore {
  constructor(readonly file: string) {}

  static for(config: BaselineServer): ToolBaselineStore {
    const digest = createHash('sha256')
      .update(
        ['agent-bom tool baseline v1', config.serverName, config.command, ...config.args].join('\u0000'),
      )
      .digest('hex')
      .slice(0, 32);
    return new ToolBaselineStore(path.join(config.cacheDir, 'proxy', 'tools', `${digest}.json`));
  }

  /** The previous session's tools (name → fingerprint), or undefined on a first run or an unreadable file. */
  async load(): Promise<ReadonlyMap<string, string> | undefined> {
    try {
      const parsed: unknown = JSON.parse(await fs.readFile(this.file, 'utf8'));
      const tools = (parsed as { tools?: unknown })?.tools;
      if (!tools || typeof tools !== 'object' || Array.isArray(tools)) return undefined;
      const entries = Object.entries(tools).filter((e): e is [string, string] => typeof e[1] === 'string');
      return new Map(entries.slice(0, 10_000));
    } catch {
      return undefined;
    }
  }

  async save(tools: ReadonlyMap<string, string>): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const temporary = `${this.file}.${process.pid}.tmp`;
    const body = JSON.stringify(
      { saved_at: new Date().toISOString(), tools: Object.fromEntries(tools) },
      null,
      1,
    );
    await fs.writeFile(temporary, body, { mode: 0o600 });
    await fs.rename(temporary, this.file);
  }
}
