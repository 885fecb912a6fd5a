const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A path segment: an object member name or an array index. */
export type Segment = string | number;

/**
 * JSONPath of a location, in the notation the policy library reads: `$.a.b[0]['odd key']`. Member names are
 * printed with control characters escaped and cut at 64 characters, so a hostile key cannot forge a log line.
 */
export function formatPath(segments: readonly Segment[]): string {
  let out = '$';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment) && segment.length <= 64) out += `.${segment}`;
    else out += `[${quote(segment)}]`;
  }
  return out;
}

function quote(name: string): string {
  const short = name.length > 64 ? `${name.slice(0, 61)}...` : name;
  const escaped = short.replace(/[\\']/g, '\\$&').replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `'${escaped}'`;
}
