const LONE_SURROGATE = /\p{Cs}/u;
const MAX_DEPTH = 1_000;

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS) for JSON values: object members sorted by the UTF-16 code
 * units of their names, numbers in ECMAScript shortest round-trip form (`1e+21`, `0.1`, `-0` → `0`), strings
 * with the minimal JSON escapes, no whitespace. Identical values always give identical bytes, which is what
 * a signature over a re-parsed payload needs.
 *
 * Throws TypeError for anything that is not I-JSON: non-finite numbers, lone surrogates, `undefined` in
 * arrays, functions, symbols, bigints, class instances (Date, Map…), nesting deeper than 1,000.
 * Object members whose value is `undefined` are omitted, as `JSON.stringify` does.
 */
export function canonicalJson(value: unknown): string {
  return serialise(value, 0);
}

function serialise(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw new TypeError(`canonical JSON: nesting deeper than ${MAX_DEPTH}`);
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON: ${value} is not a JSON number`);
      // ECMAScript Number::toString is exactly the JCS number form; it already writes -0 as "0".
      return String(value);
    case 'string':
      return serialiseString(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        const items: string[] = [];
        for (const item of value) {
          if (item === undefined) throw new TypeError('canonical JSON: undefined in an array');
          items.push(serialise(item, depth + 1));
        }
        return `[${items.join(',')}]`;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) {
        throw new TypeError(
          `canonical JSON: ${prototype?.constructor?.name ?? 'object'} is not a plain object`,
        );
      }
      const record = value as Record<string, unknown>;
      // Array.prototype.sort without a comparator orders strings by UTF-16 code units, as RFC 8785 §3.2.3 asks.
      const members: string[] = [];
      for (const key of Object.keys(record).sort()) {
        if (record[key] === undefined) continue;
        members.push(`${serialiseString(key)}:${serialise(record[key], depth + 1)}`);
      }
      return `{${members.join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON: a ${typeof value} is not a JSON value`);
  }
}

/** JSON.stringify's string escaping is the JCS one (\b \t \n \f \r, \u00xx in lower case, nothing else). */
function serialiseString(text: string): string {
  if (LONE_SURROGATE.test(text)) throw new TypeError('canonical JSON: string contains a lone surrogate');
  return JSON.stringify(text);
}
