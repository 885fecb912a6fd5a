import fs from 'node:fs';
import { redactText } from '../../../libs/detectors/src/index.js';
import type { LogLevel } from './config.js';

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * The proxy's only voice. stdout belongs to the protocol, so every line goes to stderr (level-filtered) and, with
 * `--log FILE`, as JSON to that file (every level, plus audit events). Every string is passed through the
 * credential redactor, stripped of control and bidi characters and bounded before it is written: a secret in a
 * tool name, a policy reason or a server's stderr never reaches a log.
 */
export class ProxyLogger {
  private file?: fs.WriteStream;

  constructor(
    private readonly level: LogLevel,
    logFile?: string,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {
    if (logFile) {
      // O_NOFOLLOW: a symlink planted at the log path cannot redirect the log (and its appends) elsewhere.
      const fd = fs.openSync(
        logFile,
        fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | (fs.constants.O_NOFOLLOW ?? 0),
        0o600,
      );
      this.file = fs.createWriteStream('', { fd, autoClose: true });
      this.file.on('error', () => (this.file = undefined));
    }
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.write('error', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.write('warn', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.write('info', message, fields);
  }
  debug(message: string, fields?: Record<string, unknown>): void {
    this.write('debug', message, fields);
  }
  /** Whether a `--log` file takes lines (and audit events). */
  get logsToFile(): boolean {
    return this.file !== undefined;
  }
  enabled(level: LogLevel): boolean {
    return RANK[level] <= RANK[this.level] || (this.file !== undefined && level !== 'debug');
  }

  /** An audit event, to the log file only (events are already value-free; they are still sanitised). */
  audit(event: object): void {
    this.file?.write(
      JSON.stringify({ ts: new Date().toISOString(), level: 'audit', event: sanitizeDeep(event) }) + '\n',
    );
  }

  /** A line the MCP server wrote to its stderr, passed on (sanitised) to ours. */
  serverStderr(line: string): void {
    this.stderr.write(`${sanitize(line, 4000)}\n`);
  }

  private write(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    const text = sanitize(message, 2000);
    if (RANK[level] <= RANK[this.level])
      this.stderr.write(`agent-bom proxy: ${level === 'info' ? '' : `${level}: `}${text}\n`);
    if (this.file) {
      this.file.write(
        JSON.stringify({
          ts: new Date().toISOString(),
          level,
          msg: text,
          ...(fields ? sanitizeDeep(fields) : {}),
        }) + '\n',
      );
    }
  }

  async close(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    if (file) await new Promise<void>((resolve) => file.end(resolve));
  }
}

/** Redacts credentials, strips control and bidi characters, bounds the length. */
export function sanitize(text: string, max = 1000): string {
  const short = text.length > max * 4 ? text.slice(0, max * 4) : text;
  const clean = redactText(short).text.replace(/\r?\n/g, ' ').replace(UNPRINTABLE, '?');
  return clean.length > max ? `${clean.slice(0, max - 3)}...` : clean;
}

function sanitizeDeep(value: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item === 'string') out[key] = sanitize(item, 2000);
    else if (Array.isArray(item)) out[key] = item.map((x) => (typeof x === 'string' ? sanitize(x, 200) : x));
    else out[key] = item;
  }
  return out;
}
