import { describe, expect, it } from '@jest/globals';
import { BASELINE_POLICY, compilePolicy, evaluate } from '../../policy/src/index.js';
import { hostsInText, hostsOfHostValue } from '../../policy/src/egress.js';
import { findSecretPath } from '../../policy/src/secret-paths.js';
import { normalizeServer } from '../../discovery/src/normalize.js';
import { looksLikeSecret, scrubSecrets } from '../../redaction/src/index.js';
import { redactJson, redactText, scanArguments, scanCredentials } from './index.js';

/**
 * Every reader of untrusted text on the proxy's and the gateway's hot path, fed floods of one short unit (and the
 * unit with a last character that spoils a match at the end), must cost time linear in the text's length. Each
 * case here was found superlinear by a fuzzer over these entry points, or is its neighbour: `..\` × n was
 * quadratic in the secret-path reader (its trailing-dot strip retried from every dot), `[` × n worse (every `[`
 * searched for a `]` to the end, and each glob segment built regular expressions), `curl ` × n and `x://` × n
 * read a 500-character window from every command word or scheme.
 *
 * Growth, not an absolute bound, so a loaded machine does not fail it: the cost of 8× the text must stay under
 * 3× of 8× the cost (a quadratic reader costs 64×), with an absolute floor under which timing is noise.
 */
const compiled = compilePolicy(BASELINE_POLICY);
type Reader = readonly [name: string, read: (text: string) => unknown];
const settled = (read: (text: string) => unknown) => (text: string) => {
  try {
    read(text);
  } catch {
    // a refusal is an answer too: what it costs is what is measured
  }
};
const READERS: readonly Reader[] = [
  ['scanArguments', (t) => scanArguments({ command: t, path: t, value: t, url: t, sql: t })],
  ['scanCredentials', (t) => scanCredentials({ text: t })],
  ['redactJson', (t) => redactJson(JSON.stringify({ text: t }))],
  ['redactText', (t) => redactText(t)],
  ['scrubSecrets', (t) => scrubSecrets(t)],
  ['looksLikeSecret', (t) => looksLikeSecret(t)],
  ['findSecretPath', (t) => findSecretPath(t)],
  ['hostsInText', (t) => hostsInText(t)],
  ['hostsOfHostValue', (t) => hostsOfHostValue(t)],
  [
    'policy evaluate',
    (t) =>
      evaluate(compiled, { method: 'tools/call', tool: 'run', arguments: { command: t, url: t, path: t } }),
  ],
  // Off the hot path, but read from files nobody vouches for: a client config's server entries (discovery; a `url`
  // with `/` × n was quadratic). Lockfiles are not here: the YAML parser costs ~20 µs a character on hostile text
  // and hits its stack limit on deep nesting, too slow for this check; lockfiles.spec.ts pins its options.
  [
    'discovered server',
    settled((t) =>
      normalizeServer(
        {
          name: 's',
          url: `http://x/${t}`,
          tools: [],
          disabled: false,
          oauth: false,
          credentialEnvNames: [],
          credentialHeaderNames: [],
        },
        { configPath: '/c.json', scope: 'global' },
      ),
    ),
  ],
];

const UNITS = [
  '..\\',
  '[',
  '[::',
  '[a]',
  '*',
  'c?',
  'curl ',
  'wget ',
  'fetch ',
  'nc ',
  'netcat ',
  'mkfifo ',
  'curl -d x ',
  'x://',
  'http://a.b/c?',
  'https://x/',
  'a:b@',
  '%25',
  '%c0%ae',
  '$(',
  '`x',
  '; rm',
  '|sh',
  'sk-',
  'eyJ',
  'Bearer ',
  'password=',
  '-----BEGIN ',
  'DROP TABLE x;',
  '.',
  '/',
  ':',
  '@',
  ' ',
];
const ENDINGS = ['', '\\', '!', '/x'];
const SMALL = 4_000;
const FLOOR_MS = 40;

/** CPU milliseconds of the cheapest of three runs, each on a text of its own (readers remember recent texts). */
function cpuMs(read: (text: string) => unknown, unit: string, ending: string, length: number): number {
  const flood = unit.repeat(Math.ceil(length / unit.length));
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const text = `${flood}${'xyz'[round]}${ending}`;
    const started = process.cpuUsage();
    read(text);
    const used = process.cpuUsage(started);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

describe('readers of untrusted text', () => {
  it.each(READERS)(
    '%s costs time linear in the text',
    (_name, read) => {
      const superlinear: string[] = [];
      for (const unit of UNITS) {
        for (const ending of ENDINGS) {
          const few = cpuMs(read, unit, ending, SMALL);
          // A reader already slow on the small text fails here, before a quadratic one runs for minutes.
          const many = few > FLOOR_MS ? Infinity : cpuMs(read, unit, ending, SMALL * 8);
          if (many > Math.max(FLOOR_MS, few * 8 * 3)) {
            superlinear.push(
              `${JSON.stringify(unit)}+${JSON.stringify(ending)}: ${few.toFixed(1)} → ${many.toFixed(1)} ms`,
            );
          }
        }
      }
      expect(superlinear).toEqual([]);
    },
    60_000,
  );
});
