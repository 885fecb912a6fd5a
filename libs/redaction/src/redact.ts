import { isCredentialName, looksLikeSecret } from './credentials.js';

/** What replaces a secret-looking value in args and URLs. */
export const REDACTED = '[redacted]';

/** Query parameter names that carry credentials although the name rule would not say so. */
const SECRET_QUERY_NAMES = new Set([
  'sig',
  'signature',
  'code',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'x-goog-signature',
  'x-goog-credential',
]);

export interface SanitizedUrl {
  /** The URL without userinfo or fragment, with secret-looking query values and path segments redacted. */
  url: string;
  /** True when userinfo, a query value or a path segment had to be removed: credentials live in the URL. */
  hadCredentials: boolean;
}

/**
 * Cleans a URL for the inventory. Returns undefined when `raw` is not an absolute URL (the caller decides
 * what that means; the raw text is never returned).
 */
export function sanitizeUrl(raw: string): SanitizedUrl | undefined {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return undefined;
  }
  let hadCredentials = false;
  if (url.username || url.password) {
    url.username = '';
    url.password = '';
    hadCredentials = true;
  }
  if (url.hash) {
    if (looksLikeSecret(url.hash.slice(1)) || /token|key|secret/i.test(url.hash)) hadCredentials = true;
    url.hash = '';
  }
  if (url.search) {
    const parts = url.search
      .slice(1)
      .split('&')
      .map((part) => {
        const eq = part.indexOf('=');
        const rawName = eq < 0 ? part : part.slice(0, eq);
        const rawValue = eq < 0 ? '' : part.slice(eq + 1);
        const name = safeDecode(rawName);
        const value = safeDecode(rawValue);
        if (
          rawValue &&
          (isCredentialName(name) || SECRET_QUERY_NAMES.has(name.toLowerCase()) || looksLikeSecret(value))
        ) {
          hadCredentials = true;
          return `${rawName}=${REDACTED}`;
        }
        return part;
      });
    url.search = `?${parts.join('&')}`;
  }
  const segments = url.pathname.split('/');
  if (segments.some((segment) => looksLikeSecret(safeDecode(segment)))) {
    hadCredentials = true;
    url.pathname = segments
      .map((segment) => (looksLikeSecret(safeDecode(segment)) ? REDACTED : segment))
      .join('/');
  }
  return { url: url.toString(), hadCredentials };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

export interface RedactedArgs {
  args: string[];
  /** Credential-bearing env var names the args pass on (`-e GITHUB_TOKEN`, `--env API_KEY=…`). */
  envNames: string[];
  /** Credential-bearing header names the args set (`--header "Authorization: Bearer …"`). */
  headerNames: string[];
  /** True when anything was redacted. */
  redacted: boolean;
  /** True when a URL among the args carried credentials (userinfo, a secret query value or path segment). */
  urlCredentials: boolean;
}

const ENV_FLAGS = new Set(['-e', '--env']);
const HEADER_FLAGS = new Set(['-H', '--header', '--headers']);
const ENV_ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/;
const HEADER_LINE = /^([A-Za-z][A-Za-z0-9-]*):\s*([\s\S]*)$/;

/**
 * Redacts secret-looking values from a server's command-line arguments:
 * `--token=xyz` → `--token=[redacted]`; `--api-key xyz` → `--api-key [redacted]`; `-e NAME=value` and
 * `NAME=value` with a credential name or secret value → `NAME=[redacted]`; `Authorization: Bearer x` →
 * `Authorization: [redacted]`; URLs are sanitized; any argument that looks like a known secret format or a long
 * random string → `[redacted]`. Along the way it notes the credential env and header names the args pass on.
 */
export function redactArgs(input: readonly string[]): RedactedArgs {
  const args: string[] = [];
  const envNames = new Set<string>();
  const headerNames = new Set<string>();
  let redacted = false;
  let urlCredentials = false;
  let expect: 'secret' | 'env' | 'header' | undefined;

  const envAssignment = (text: string, fromEnvFlag: boolean): string | undefined => {
    const match = ENV_ASSIGNMENT.exec(text);
    if (!match) {
      if (fromEnvFlag && /^[A-Za-z_][A-Za-z0-9_]*$/.test(text) && isCredentialName(text)) envNames.add(text);
      return undefined;
    }
    const [, name, value] = match;
    if (isCredentialName(name) || looksLikeSecret(value)) {
      envNames.add(name);
      if (!value) return text;
      redacted = true;
      return `${name}=${REDACTED}`;
    }
    return fromEnvFlag ? text : undefined;
  };
  const headerLine = (text: string): string | undefined => {
    const match = HEADER_LINE.exec(text);
    if (!match) return undefined;
    const [, name, value] = match;
    if (isCredentialName(name) || looksLikeSecret(value)) {
      headerNames.add(name);
      redacted = true;
      return `${name}: ${REDACTED}`;
    }
    return undefined;
  };
  const plain = (text: string): string => {
    if (text.includes('://')) {
      const clean = sanitizeUrl(text);
      if (clean) {
        if (clean.hadCredentials) redacted = urlCredentials = true;
        return clean.url;
      }
    }
    const assigned = envAssignment(text, false);
    if (assigned !== undefined) return assigned;
    const header = headerLine(text);
    if (header !== undefined) return header;
    if (looksLikeSecret(text)) {
      redacted = true;
      return REDACTED;
    }
    return text;
  };

  for (const arg of input) {
    const pending = expect;
    expect = undefined;
    if (pending === 'secret' && !/^--?[A-Za-z]/.test(arg)) {
      args.push(REDACTED);
      redacted = true;
      continue;
    }
    if (pending === 'env') {
      args.push(envAssignment(arg, true) ?? plain(arg));
      continue;
    }
    if (pending === 'header') {
      args.push(headerLine(arg) ?? plain(arg));
      continue;
    }
    const flag = /^(--?[A-Za-z][A-Za-z0-9._-]*)(?:=([\s\S]*))?$/.exec(arg);
    if (flag) {
      const [, name, value] = flag;
      const bare = name.replace(/^-+/, '');
      if (value === undefined) {
        if (ENV_FLAGS.has(name)) expect = 'env';
        else if (HEADER_FLAGS.has(name)) expect = 'header';
        else if (isCredentialName(bare)) expect = 'secret';
        args.push(arg);
        continue;
      }
      if (ENV_FLAGS.has(name)) {
        args.push(`${name}=${envAssignment(value, true) ?? plain(value)}`);
      } else if (HEADER_FLAGS.has(name)) {
        args.push(`${name}=${headerLine(value) ?? plain(value)}`);
      } else if (value && (isCredentialName(bare) || looksLikeSecret(value))) {
        redacted = true;
        args.push(`${name}=${REDACTED}`);
      } else {
        args.push(`${name}=${plain(value)}`);
      }
      continue;
    }
    args.push(plain(arg));
  }
  return { args, envNames: [...envNames], headerNames: [...headerNames], redacted, urlCredentials };
}
