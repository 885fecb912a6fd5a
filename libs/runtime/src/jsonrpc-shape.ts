import { stringEnd } from '../../detectors/src/index.js';

/** Where a member's value sits in the frame text: `[start, end)`. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** What the structural scan learned about one frame (valid JSON text). */
export interface FrameShape {
  /** Deepest nesting of objects and arrays. */
  readonly depth: number;
  /** First member name that appears twice in one object, with where (`$.params.arguments`), if any. */
  readonly duplicate?: { readonly key: string; readonly at: string };
  /** Members of the top-level object, of `params`, and of `params._meta` (value spans). */
  readonly root: ReadonlyMap<string, Span>;
  readonly params?: ReadonlyMap<string, Span>;
  readonly meta?: ReadonlyMap<string, Span>;
  /** Opening brace of `params` and `params._meta` when they are objects. */
  readonly paramsOpen?: number;
  readonly metaOpen?: number;
  /** Closing brace of the top-level object. */
  readonly rootClose?: number;
}

type Tag = 'root' | 'params' | 'meta' | null;

interface Container {
  object: boolean;
  tag: Tag;
  /**
   * Where this object's member names start in the scan's shared list (`names`); past `SMALL_OBJECT` members they
   * move to a Set of its own (`many`), so a huge object stays linear.
   */
  from: number;
  many: Set<string> | null;
  key: string | undefined;
  valueStart: number;
  members: Map<string, Span> | null;
}

/** Member names of one object compared one by one up to this many; past it, a Set. */
const SMALL_OBJECT = 16;

/**
 * One linear pass over a frame that `JSON.parse` already accepted. It finds what the parsed value hides:
 * duplicate member names (parsers disagree on which one wins, so the proxy could check one value while the server
 * uses another) and the nesting depth; and it records the byte spans of the members the proxy may splice
 * (`id`, `params`, `params._meta.traceparent`) so it never has to re-serialise a frame it forwards.
 *
 * It runs on every relayed message, so it allocates only what it returns: the names of the open objects share one
 * list (an object's own names are compared one by one while it has few), and the path of a duplicate
 * (`$.params.arguments`) is spelled only when one is found.
 */
export function scanShape(text: string): FrameShape {
  const stack: Container[] = [];
  const names: string[] = [];
  let depth = 0;
  let duplicate: FrameShape['duplicate'];
  let root: Map<string, Span> | undefined;
  let params: Map<string, Span> | undefined;
  let meta: Map<string, Span> | undefined;
  let paramsOpen: number | undefined;
  let metaOpen: number | undefined;
  let rootClose: number | undefined;

  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = stringEnd(text, i);
      const top = stack[stack.length - 1];
      if (top && top.object && top.key === undefined) {
        let escaped = false;
        for (let k = i + 1; k < end; k++)
          if (text.charCodeAt(k) === 0x5c) {
            escaped = true;
            break;
          }
        const name = escaped ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
        if (seenBefore(names, top, name) && !duplicate)
          duplicate = { key: name.slice(0, 64), at: pathOf(stack) };
        top.key = name;
      }
      i = end + 1;
      continue;
    }
    if (c === 0x3a /* : */) {
      const top = stack[stack.length - 1];
      let start = i + 1;
      while (start < n && isSpace(text.charCodeAt(start))) start++;
      top.valueStart = start;
    } else if (c === 0x7b || c === 0x5b) {
      const parent = stack[stack.length - 1];
      const object = c === 0x7b;
      let tag: Tag = null;
      if (!parent) tag = object ? 'root' : null;
      else if (object && parent.tag === 'root' && parent.key === 'params') tag = 'params';
      else if (object && parent.tag === 'params' && parent.key === '_meta') tag = 'meta';
      const members = tag ? new Map<string, Span>() : null;
      if (tag === 'root') root = members!;
      else if (tag === 'params') {
        params = members!;
        paramsOpen = i;
      } else if (tag === 'meta') {
        meta = members!;
        metaOpen = i;
      }
      stack.push({
        object,
        tag,
        from: names.length,
        many: null,
        key: undefined,
        valueStart: i + 1,
        members,
      });
      if (stack.length > depth) depth = stack.length;
    } else if (c === 0x7d || c === 0x5d) {
      const closed = stack.pop()!;
      names.length = closed.from; // its names go; the parent's, below them, stay
      if (closed.object) endValue(text, closed, i);
      if (closed.tag === 'root') rootClose = i;
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top.object) {
        endValue(text, top, i);
        top.key = undefined;
      }
    }
    i++;
  }
  return { depth, duplicate, root: root ?? new Map(), params, meta, paramsOpen, metaOpen, rootClose };
}

/** Records the span of the member value that ends before `at` (in an object whose members are kept). */
function endValue(text: string, container: Container, at: number): void {
  if (container.members && container.key !== undefined) {
    let end = at;
    while (end > container.valueStart && isSpace(text.charCodeAt(end - 1))) end--;
    container.members.set(container.key, { start: container.valueStart, end });
  }
}

/**
 * Whether the innermost open object already has this member name; records it either way. `names` holds the names
 * of the open objects, each object's from its `from` on (module functions, not closures: none made per scan).
 */
function seenBefore(names: string[], top: Container, name: string): boolean {
  if (top.many) {
    if (top.many.has(name)) return true;
    top.many.add(name);
    return false;
  }
  for (let k = top.from; k < names.length; k++) if (names[k] === name) return true;
  if (names.length - top.from < SMALL_OBJECT) names.push(name);
  else {
    top.many = new Set(names.slice(top.from));
    top.many.add(name);
    names.length = top.from;
  }
  return false;
}

/**
 * Where the innermost open object sits: `$`, then `.name` per member (its first 32 characters) and `[]` per
 * array element on the way down.
 */
function pathOf(stack: readonly Container[]): string {
  let path = '$';
  for (let k = 1; k < stack.length; k++) {
    const parent = stack[k - 1];
    path = parent.object ? `${path}.${(parent.key ?? '').slice(0, 32)}` : `${path}[]`;
  }
  return path;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * The frame text with `params._meta.traceparent` set, spliced in without re-serialising anything else. Returns
 * undefined when there is nowhere sane to put it (`params` or `_meta` present but not objects) or when the frame
 * already carries one.
 */
export function withTraceparent(text: string, shape: FrameShape, traceparent: string): string | undefined {
  const edit = traceparentInsertion(shape, traceparent);
  return edit && text.slice(0, edit.at) + edit.insert + text.slice(edit.at);
}

/**
 * The one insertion `withTraceparent` makes: `insert` goes before the character at `at`. The caller may apply
 * it to the frame's bytes instead of its text when they coincide (an ASCII frame), and skip re-encoding it.
 */
export function traceparentInsertion(
  shape: FrameShape,
  traceparent: string,
): { readonly at: number; readonly insert: string } | undefined {
  if (shape.meta?.has('traceparent')) return undefined;
  return metaInsertion(shape, `"traceparent":${JSON.stringify(traceparent)}`);
}

/**
 * Where and what to insert so that `params._meta` gains the serialised members `added` (`"name":"value",…`):
 * into `_meta`, or a new `_meta` in `params`, or a new `params` in the root. Undefined when there is nowhere sane
 * to put them (`params` or `_meta` present but not objects, or no top-level object).
 */
function metaInsertion(shape: FrameShape, added: string): { at: number; insert: string } | undefined {
  if (shape.meta && shape.metaOpen !== undefined) {
    return { at: shape.metaOpen + 1, insert: shape.meta.size > 0 ? `${added},` : added };
  }
  if (shape.params && shape.paramsOpen !== undefined) {
    if (shape.params.has('_meta')) return undefined;
    const meta = `"_meta":{${added}}`;
    return { at: shape.paramsOpen + 1, insert: shape.params.size > 0 ? `${meta},` : meta };
  }
  if (shape.root.has('params') || shape.rootClose === undefined) return undefined;
  return { at: shape.rootClose, insert: `${shape.root.size > 0 ? ',' : ''}"params":{"_meta":{${added}}}` };
}

/**
 * The frame text with string members of `params._meta` set (a trace context), spliced in without re-serialising
 * anything else: a member the frame lacks is inserted, one it has gets its value replaced. Returns undefined when
 * there is nowhere sane to put them (`params` or `_meta` present but not objects, or no top-level object).
 */
export function withMetaMembers(
  text: string,
  shape: FrameShape,
  members: Readonly<Record<string, string>>,
): string | undefined {
  // Per relayed request: the members the frame lacks are joined as they are met and, when it has none of them
  // (the usual case: no `_meta`, or one without a trace context), the text gets one insertion; only replacements
  // collect edits, applied from the end so earlier offsets hold.
  let added = '';
  let replaced: Array<{ start: number; end: number; insert: string }> | undefined;
  for (const name in members) {
    if (!Object.hasOwn(members, name)) continue; // own enumerable names, as `Object.entries` gave them
    const value = members[name];
    const span = shape.meta?.get(name);
    if (span) (replaced ??= []).push({ start: span.start, end: span.end, insert: JSON.stringify(value) });
    else {
      const member = `${JSON.stringify(name)}:${JSON.stringify(value)}`;
      added = added === '' ? member : `${added},${member}`;
    }
  }
  let at = -1;
  let insert = '';
  if (added !== '') {
    const insertion = metaInsertion(shape, added);
    if (!insertion) return undefined;
    at = insertion.at;
    insert = insertion.insert;
  }
  if (!replaced) return at < 0 ? text : text.slice(0, at) + insert + text.slice(at);
  if (at >= 0) replaced.push({ start: at, end: at, insert });
  let out = text;
  for (const edit of replaced.sort((a, b) => b.start - a.start))
    out = out.slice(0, edit.start) + edit.insert + out.slice(edit.end);
  return out;
}
